//! The `db` document store: sealed documents as rows, for deployments of several instances
//! without shared storage. And the indexes the reviewers' queue needs with a large history:
//! each term of its filter (pending, a message waiting, an open objection) and the domain
//! lookups of "contested" have their own, so the database reads only the waiting rows.

use sea_orm_migration::schema::*;

use super::{index, table, Change};

pub(super) fn changes() -> Vec<Change> {
    // Partial, in creation order: the few requests with a message waiting or an objection,
    // oldest first. (An index on the column itself is no use to `IS NOT NULL` in SQLite.)
    let created_where =
        |name, column: &'static str| index(name, "requests", ["created_at"]).where_set(column);
    vec![
        table(
            "document_blobs",
            [
                string("storage_name").primary_key().to_owned(),
                blob("sealed"),
                timestamp_with_time_zone("created_at"),
            ],
        ),
        created_where("idx_requests_awaiting_reply", "awaiting_reply_since"),
        created_where("idx_requests_objected", "objected_at"),
        index("idx_requests_domain", "requests", ["domain"]),
        index("idx_transfer_codes_domain", "transfer_codes", ["domain"]),
    ]
}
