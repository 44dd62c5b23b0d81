//! What closing the side doors around the anti-hijack protections needs: when the holder's
//! link was actually mailed; a nameserver change held until the objection window has passed,
//! when it was carried out and what the nameservers were before; the count of a requester's
//! messages, bumped by one guarded update; the registrant's language in the portfolio; and
//! where a mail's link goes, as a paragraph number instead of a marker in the text.

use sea_orm_migration::schema::*;

use super::{columns, index, Change};

const HAND_OFF_DUE_INDEX: &str = "idx_requests_hand_off_due";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "requests",
            [
                timestamp_with_time_zone_null("holder_link_sent_at"),
                timestamp_with_time_zone_null("hand_off_due_at"),
                timestamp_with_time_zone_null("nameservers_set_at"),
                text_null("previous_nameservers"),
                integer("requester_messages").default(0).to_owned(),
            ],
        ),
        columns("domains", [string_null("language")]),
        columns("outbox_mails", [integer_null("link_paragraph")]),
        vec![
            // Messages sent before this migration count against the limit too.
            Change::Data(
                "UPDATE requests SET requester_messages = (SELECT COUNT(*) FROM request_events \
                 WHERE request_events.request_id = requests.id \
                 AND request_events.kind = 'message_from_requester')",
            ),
            // Nameserver changes already carried out were set when they were decided.
            Change::Data(
                "UPDATE requests SET nameservers_set_at = decided_at \
                 WHERE kind = 'nameservers' AND state = 'approved'",
            ),
            index(HAND_OFF_DUE_INDEX, "requests", ["hand_off_due_at"]).where_set("hand_off_due_at"),
        ],
    ]
    .concat()
}
