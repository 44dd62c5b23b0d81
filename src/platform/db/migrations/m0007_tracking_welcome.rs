//! When a requester first saw their tracking page: the welcome box (with the private link
//! to save) shows on that first view only, however often a bookmark of it is opened.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    let mut changes = columns("requests", [timestamp_with_time_zone_null("welcomed_at")]);
    // Requests made before this migration had their first view already.
    changes.push(Change::Data("UPDATE requests SET welcomed_at = created_at"));
    changes
}
