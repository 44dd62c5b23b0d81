//! The `db` document store: sealed documents as rows, for deployments of several instances
//! without shared storage. And the indexes the reviewers' queue needs with a large history:
//! each term of its filter (pending, a message waiting, an open objection) and the domain
//! lookups of "contested" have their own, so the database reads only the waiting rows.

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

#[derive(DeriveIden)]
enum Requests {
    Table,
    CreatedAt,
    AwaitingReplySince,
    ObjectedAt,
    Domain,
}

#[derive(DeriveIden)]
enum TransferCodes {
    Table,
    Domain,
}

/// The indexes, by name.
fn indexes() -> Vec<IndexCreateStatement> {
    let on_requests = |name: &str, column: Requests| {
        Index::create()
            .name(name)
            .table(Requests::Table)
            .col(column)
            .to_owned()
    };
    // Partial, in creation order: the few requests with a message waiting or an objection,
    // oldest first. (An index on the column itself is no use to `IS NOT NULL` in SQLite.)
    let created_where = |name: &str, column: Requests| {
        Index::create()
            .name(name)
            .table(Requests::Table)
            .col(Requests::CreatedAt)
            .and_where(Expr::col(column).is_not_null())
            .to_owned()
    };
    vec![
        created_where("idx_requests_awaiting_reply", Requests::AwaitingReplySince),
        created_where("idx_requests_objected", Requests::ObjectedAt),
        on_requests("idx_requests_domain", Requests::Domain),
        Index::create()
            .name("idx_transfer_codes_domain")
            .table(TransferCodes::Table)
            .col(TransferCodes::Domain)
            .to_owned(),
    ]
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
            .await?;
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_requests_awaiting_reply", "requests"),
            ("idx_requests_objected", "requests"),
            ("idx_requests_domain", "requests"),
            ("idx_transfer_codes_domain", "transfer_codes"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(DocumentBlobs::Table).to_owned())
            .await
    }
}
