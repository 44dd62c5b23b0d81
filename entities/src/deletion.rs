use sea_orm::entity::prelude::*;

/// A blob to unlink after the transaction that shredded its key has committed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deletion_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub storage_name: String,
    pub created_at: DateTimeUtc,
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
