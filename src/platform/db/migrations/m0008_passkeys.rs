//! Reviewers' passkeys (WebAuthn credentials, each with its signature counter), the state of
//! passkey ceremonies under way (kept here, never in a cookie), and when a session last
//! proved itself with a passkey, and with which.

use sea_orm_migration::schema::*;

use super::{columns, index, table, Change};

const REVIEWER_INDEX: &str = "idx_passkeys_reviewer";

pub(super) fn changes() -> Vec<Change> {
    [
        vec![
            table(
                "passkeys",
                [
                    pk_uuid("id"),
                    uuid("reviewer_id"),
                    string("name"),
                    blob("credential_id").unique_key().to_owned(),
                    text("credential"),
                    big_integer("sign_count"),
                    timestamp_with_time_zone("created_at"),
                    timestamp_with_time_zone_null("last_used_at"),
                ],
            ),
            index(REVIEWER_INDEX, "passkeys", ["reviewer_id"]),
            table(
                "passkey_ceremonies",
                [
                    blob("id_hash").primary_key().to_owned(),
                    string("purpose"),
                    uuid_null("reviewer_id"),
                    blob_null("session_hash"),
                    text("state"),
                    timestamp_with_time_zone("expires_at"),
                ],
            ),
        ],
        columns(
            "sessions",
            [
                timestamp_with_time_zone_null("passkey_at"),
                uuid_null("passkey_id"),
            ],
        ),
    ]
    .concat()
}
