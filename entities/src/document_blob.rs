use sea_orm::entity::prelude::*;

/// A sealed document kept in the database (the `db` document store).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_blobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub storage_name: String,
    pub sealed: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
