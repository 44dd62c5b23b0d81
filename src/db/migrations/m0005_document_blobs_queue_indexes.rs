//! The `db` document store: sealed documents as rows, for deployments of several instances
//! without shared storage. And the indexes the reviewers' queue needs with a large history:
//! each term of its filter (pending, a message waiting, an open objection) and the domain
//! lookups of "contested" have their own, so the database reads only the waiting rows.

use sea_orm_migration::{prelude::*, schema::*};

use super::{index, Change};

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

pub(super) fn changes() -> Vec<Change> {
    // Partial, in creation order: the few requests with a message waiting or an objection,
    // oldest first. (An index on the column itself is no use to `IS NOT NULL` in SQLite.)
    let created_where = |name, column: Requests| {
        index(name, Requests::Table, [Requests::CreatedAt]).where_set(column)
    };
    vec![
        Change::Table(
            Table::create()
                .table(DocumentBlobs::Table)
                .col(string(DocumentBlobs::StorageName).primary_key())
                .col(blob(DocumentBlobs::Sealed))
                .col(timestamp_with_time_zone(DocumentBlobs::CreatedAt))
                .to_owned(),
        ),
        created_where("idx_requests_awaiting_reply", Requests::AwaitingReplySince),
        created_where("idx_requests_objected", Requests::ObjectedAt),
        index("idx_requests_domain", Requests::Table, [Requests::Domain]),
        index(
            "idx_transfer_codes_domain",
            TransferCodes::Table,
            [TransferCodes::Domain],
        ),
    ]
}
