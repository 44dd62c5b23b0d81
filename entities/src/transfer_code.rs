use sea_orm::entity::prelude::*;

/// An issued transfer code: a salted hash, and a copy only the tracking token can open.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfer_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    pub domain: String,
    pub salt: Vec<u8>,
    pub code_hash: Vec<u8>,
    /// `None` once the code has expired and been erased.
    pub sealed_code: Option<Vec<u8>>,
    pub recipient: String,
    pub means: String,
    pub issued_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
