//! One-time links that enrol a reviewer's passkey beside those that set a password (what a
//! link is for), and the address a reviewer is told of changes to their passkeys at.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "setup_tokens",
            [string("purpose").default("password").to_owned()],
        ),
        columns("reviewers", [string_null("email")]),
    ]
    .concat()
}
