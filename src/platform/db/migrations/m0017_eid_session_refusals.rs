//! How many answers a wallet session refused: past a few, the session is closed, so that
//! whoever holds its QR code cannot fill the audit trail with refusals.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    columns(
        "eid_sessions",
        [integer("refused_answers").default(0).to_owned()],
    )
}
