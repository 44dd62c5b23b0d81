//! The audit trail as a Merkle log (RFC 6962): each event's place in the log and its leaf
//! hash, a salt that commits to its detail, the hashes of the log's complete subtrees, the
//! signed checkpoints, and the log's signing key
//! (sealed under the master key); and each document's SHA-256 as sealed, which the deletion
//! receipt names.

use sea_orm_migration::schema::*;

use super::{columns, index, table, Change};

const LEAF_INDEX: &str = "idx_audit_events_leaf";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "audit_events",
            [
                big_integer_null("leaf_index"),
                blob_null("leaf_hash"),
                blob_null("detail_salt"),
            ],
        ),
        columns("documents", [blob_null("sealed_sha256")]),
        vec![
            index(LEAF_INDEX, "audit_events", ["leaf_index"]).unique(),
            table(
                "audit_nodes",
                [integer("level"), big_integer("position"), blob("hash")],
            )
            .keyed_by(["level", "position"]),
            table(
                "audit_checkpoints",
                [
                    big_integer("size").primary_key().to_owned(),
                    blob("root"),
                    text("note"),
                    timestamp_with_time_zone("created_at"),
                ],
            ),
            table(
                "log_keys",
                [
                    string("name").primary_key().to_owned(),
                    blob("public_key"),
                    blob("sealed_private"),
                    timestamp_with_time_zone("created_at"),
                ],
            ),
        ],
    ]
    .concat()
}
