//! Evidence retention (when a decided request's personal data were erased, and an index to
//! find those due), one-time password links for named reviewers, the company UID of a
//! signatory, and the host's incident notices.

use sea_orm_migration::schema::*;

use super::{columns, index, table, Change};

const DECIDED_INDEX: &str = "idx_requests_decided_at";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "requests",
            [
                timestamp_with_time_zone_null("personal_data_erased_at"),
                string_null("company_uid"),
            ],
        ),
        columns("setup_tokens", [uuid_null("reviewer_id")]),
        vec![
            index(DECIDED_INDEX, "requests", ["decided_at"]),
            table(
                "incident_notices",
                [
                    uuid("id").primary_key().to_owned(),
                    string("severity"),
                    text("texts"),
                    timestamp_with_time_zone("starts_at"),
                    timestamp_with_time_zone("ends_at"),
                    timestamp_with_time_zone("updated_at"),
                    string("created_by"),
                ],
            ),
        ],
    ]
    .concat()
}
