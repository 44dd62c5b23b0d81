//! How many readings of a document's zone were begun since one last finished: a reading the
//! service did not live to finish (a picture that exhausted its memory) counts, so that a
//! document is not taken up again forever.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    columns(
        "documents",
        [integer("zone_attempts").default(0).to_owned()],
    )
}
