//! The audit trail as a Merkle log (RFC 6962): each event's place in the log and its leaf
//! hash, a salt that commits to its detail, the hashes of the log's complete subtrees, the
//! signed checkpoints, and the log's signing key
//! (sealed under the master key); and each document's SHA-256 as sealed, which the deletion
//! receipt names.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    LeafIndex,
    LeafHash,
    DetailSalt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    SealedSha256,
}

#[derive(DeriveIden)]
enum AuditNodes {
    Table,
    Level,
    Position,
    Hash,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Size,
    Root,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LogKeys {
    Table,
    Name,
    PublicKey,
    SealedPrivate,
    CreatedAt,
}

const LEAF_INDEX: &str = "idx_audit_events_leaf";

fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    let events = || AuditEvents::Table.into_iden();
    vec![
        (events(), big_integer_null(AuditEvents::LeafIndex)),
        (events(), blob_null(AuditEvents::LeafHash)),
        (events(), blob_null(AuditEvents::DetailSalt)),
        (
            Documents::Table.into_iden(),
            blob_null(Documents::SealedSha256),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await?;
        manager
            .create_index(
                Index::create()
                    .name(LEAF_INDEX)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::LeafIndex)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditNodes::Table)
                    .col(integer(AuditNodes::Level))
                    .col(big_integer(AuditNodes::Position))
                    .col(blob(AuditNodes::Hash))
                    .primary_key(
                        Index::create()
                            .col(AuditNodes::Level)
                            .col(AuditNodes::Position),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(big_integer(AuditCheckpoints::Size).primary_key())
                    .col(blob(AuditCheckpoints::Root))
                    .col(text(AuditCheckpoints::Note))
                    .col(timestamp_with_time_zone(AuditCheckpoints::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogKeys::Table)
                    .col(string(LogKeys::Name).primary_key())
                    .col(blob(LogKeys::PublicKey))
                    .col(blob(LogKeys::SealedPrivate))
                    .col(timestamp_with_time_zone(LogKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LogKeys::Table.into_iden(),
            AuditCheckpoints::Table.into_iden(),
            AuditNodes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(LEAF_INDEX)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        super::drop_columns(manager, added_columns()).await
    }
}
