//! A request's kind (a transfer code or a nameserver change) and the nameservers asked for;
//! the current nameservers of a domain from the portfolio; the holder who verifies
//! directly (their name, address and private link); and the mark of a requester's message
//! that no reviewer has answered yet; the standard reason of a decision as a message key, so
//! that each reader reads it in their own language; the requester's language; the "this was
//! not me" objection of the registrant on file; the outbox of mails; and the master-key
//! version a document's key is wrapped under after a rotation.

use sea_orm_migration::schema::*;

use super::{columns, index, table, Change};

const HOLDER_TOKEN_INDEX: &str = "idx_requests_holder_token_hash";
const OBJECTION_TOKEN_INDEX: &str = "idx_requests_objection_token_hash";
const OUTBOX_DUE_INDEX: &str = "idx_outbox_mails_due";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "requests",
            [
                string("kind").default("transfer_code").to_owned(),
                text_null("nameservers"),
                string_null("holder_name"),
                string_null("holder_email"),
                blob_null("holder_token_hash"),
                timestamp_with_time_zone_null("holder_link_expires_at"),
                timestamp_with_time_zone_null("holder_answered_at"),
                timestamp_with_time_zone_null("awaiting_reply_since"),
                string("language").default("en").to_owned(),
                blob_null("objection_token_hash"),
                timestamp_with_time_zone_null("objected_at"),
                timestamp_with_time_zone_null("objection_handled_at"),
            ],
        ),
        columns("domains", [text_null("nameservers")]),
        columns("decisions", [string_null("reason_key")]),
        columns("documents", [integer_null("wrap_version")]),
        vec![
            index(HOLDER_TOKEN_INDEX, "requests", ["holder_token_hash"]).unique(),
            index(OBJECTION_TOKEN_INDEX, "requests", ["objection_token_hash"]).unique(),
            table(
                "outbox_mails",
                [
                    uuid("id").primary_key().to_owned(),
                    uuid_null("request_id"),
                    string("kind"),
                    string("recipient"),
                    string("language"),
                    string("subject"),
                    text("body"),
                    blob_null("sealed_link"),
                    timestamp_with_time_zone("created_at"),
                    timestamp_with_time_zone("next_attempt_at"),
                    integer("attempts"),
                    timestamp_with_time_zone_null("sent_at"),
                    timestamp_with_time_zone_null("failed_at"),
                    text_null("last_error"),
                ],
            ),
            index(
                OUTBOX_DUE_INDEX,
                "outbox_mails",
                ["sent_at", "next_attempt_at"],
            ),
        ],
    ]
    .concat()
}
