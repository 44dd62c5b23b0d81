use sea_orm::entity::prelude::*;

/// One-time link that creates the first admin (no reviewer) or sets a reviewer's password.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "setup_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: Vec<u8>,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// The reviewer whose password the link sets; `None` for the first-admin link.
    pub reviewer_id: Option<Uuid>,
    /// What the link does: `password` (sets the password) or `passkey` (enrols a passkey).
    pub purpose: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
