//! Portfolio, requests, their encrypted documents and their timeline.

use sea_orm_migration::schema::*;

use super::{index, table, Change};

pub(super) fn changes() -> Vec<Change> {
    vec![
        table(
            "domains",
            [
                string("name").primary_key().to_owned(),
                string("registrant_name"),
                string("registrant_email"),
                string_null("registrant_phone"),
                timestamp_with_time_zone("imported_at"),
            ],
        ),
        table(
            "requests",
            [
                pk_uuid("id"),
                string("domain"),
                string("requester_name"),
                string("requester_email"),
                string_null("requester_phone"),
                string("relation"),
                string("state"),
                blob("tracking_token_hash").unique_key().to_owned(),
                string_null("client_addr"),
                timestamp_with_time_zone("consent_at"),
                timestamp_with_time_zone("created_at"),
                timestamp_with_time_zone("updated_at"),
            ],
        ),
        index(
            "idx_requests_state_created",
            "requests",
            ["state", "created_at"],
        ),
        table(
            "documents",
            [
                pk_uuid("id"),
                uuid("request_id"),
                string("kind"),
                integer("format_version"),
                string("algorithm"),
                integer("key_version"),
                blob_null("wrapped_key"),
                string("storage_name"),
                integer("width"),
                integer("height"),
                big_integer("byte_len"),
                text("signals"),
                timestamp_with_time_zone("created_at"),
                timestamp_with_time_zone_null("shredded_at"),
            ],
        )
        .refers("request_id", "requests"),
        index("idx_documents_request", "documents", ["request_id"]),
        table(
            "request_events",
            [
                big_pk_auto("id"),
                uuid("request_id"),
                timestamp_with_time_zone("at"),
                string("kind"),
                text_null("note"),
            ],
        )
        .refers("request_id", "requests"),
        index(
            "idx_request_events_request",
            "request_events",
            ["request_id"],
        ),
    ]
}
