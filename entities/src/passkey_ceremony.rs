use sea_orm::entity::prelude::*;

/// A passkey ceremony under way: the challenge's state, server-side only, found by the hash
/// of the id the browser holds, used once and good for five minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: Vec<u8>,
    /// `register`, `sign_in` or `step_up`.
    pub purpose: String,
    /// Whose ceremony it is (none for a sign-in, where the passkey says who).
    pub reviewer_id: Option<Uuid>,
    /// The session a registration or step-up belongs to.
    pub session_hash: Option<Vec<u8>>,
    pub state: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
