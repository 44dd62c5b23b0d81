//! Every audit event's own salt (the log's event encoding v2): its leaf commits to the actor
//! and the detail only as salted hashes, so that no event can be guessed back from a leaf
//! hash that a proof makes public. Events recorded before keep their v1 encoding.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    columns("audit_events", [blob_null("salt")])
}
