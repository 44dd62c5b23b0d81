use sea_orm::entity::prelude::*;

/// A reviewer's passkey: the WebAuthn credential as webauthn-rs keeps it (JSON), its id for
/// look-ups, and the signature counter the last assertion showed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reviewer_id: Uuid,
    /// The name the reviewer gave it ("work laptop").
    pub name: String,
    #[sea_orm(unique)]
    pub credential_id: Vec<u8>,
    pub credential: String,
    pub sign_count: i64,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
