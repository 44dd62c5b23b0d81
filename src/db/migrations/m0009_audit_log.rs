//! The audit trail as a Merkle log (RFC 6962): each event's place in the log and its leaf
//! hash, a salt that commits to its detail, the hashes of the log's complete subtrees, the
//! signed checkpoints, and the log's signing key
//! (sealed under the master key); and each document's SHA-256 as sealed, which the deletion
//! receipt names.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, index, Change};

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

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            AuditEvents::Table,
            [
                big_integer_null(AuditEvents::LeafIndex),
                blob_null(AuditEvents::LeafHash),
                blob_null(AuditEvents::DetailSalt),
            ],
        ),
        columns(Documents::Table, [blob_null(Documents::SealedSha256)]),
        vec![
            index(LEAF_INDEX, AuditEvents::Table, [AuditEvents::LeafIndex]).unique(),
            Change::Table(
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
            ),
            Change::Table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(big_integer(AuditCheckpoints::Size).primary_key())
                    .col(blob(AuditCheckpoints::Root))
                    .col(text(AuditCheckpoints::Note))
                    .col(timestamp_with_time_zone(AuditCheckpoints::CreatedAt))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(LogKeys::Table)
                    .col(string(LogKeys::Name).primary_key())
                    .col(blob(LogKeys::PublicKey))
                    .col(blob(LogKeys::SealedPrivate))
                    .col(timestamp_with_time_zone(LogKeys::CreatedAt))
                    .to_owned(),
            ),
        ],
    ]
    .concat()
}
