//! The registry's permanent refusal of a hand-off, kept on the request for the reviewers (its
//! message and when), and the index the queue reads the flagged requests by.

use sea_orm_migration::schema::*;

use super::{columns, index, Change};

pub(super) fn changes() -> Vec<Change> {
    let mut changes = columns(
        "requests",
        [
            text_null("registry_refusal"),
            timestamp_with_time_zone_null("registry_refused_at"),
        ],
    );
    changes.push(
        index("idx_requests_registry_refused", "requests", ["created_at"])
            .where_set("registry_refused_at"),
    );
    changes
}
