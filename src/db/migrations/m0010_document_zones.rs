//! The machine-readable zone of identity documents: how far reading it got, what it said
//! (sealed under the document's own data key, so it is shredded with the document), and the
//! kind of document the requester said they photographed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Documents {
    Table,
    ZoneStatus,
    SealedZone,
    ZoneUpdatedAt,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    IdDocumentType,
}

fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    let documents = || Documents::Table.into_iden();
    vec![
        (documents(), string_null(Documents::ZoneStatus)),
        (documents(), blob_null(Documents::SealedZone)),
        (
            documents(),
            timestamp_with_time_zone_null(Documents::ZoneUpdatedAt),
        ),
        (
            Requests::Table.into_iden(),
            string_null(Requests::IdDocumentType),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::drop_columns(manager, added_columns()).await
    }
}
