//! The `db` document store: sealed documents as rows, for deployments of several instances
//! without shared storage.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DocumentBlobs {
    Table,
    StorageName,
    Sealed,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DocumentBlobs::Table)
                    .col(string(DocumentBlobs::StorageName).primary_key())
                    .col(blob(DocumentBlobs::Sealed))
                    .col(timestamp_with_time_zone(DocumentBlobs::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DocumentBlobs::Table).to_owned())
            .await
    }
}
