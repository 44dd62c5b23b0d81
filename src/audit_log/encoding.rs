//! How an event is encoded for the log: the bytes its leaf hash commits to.

use chrono::SecondsFormat;
use entities::audit_event;

use crate::crypto::sha256;

/// The first line of every event's encoding; a new encoding gets a new version.
pub const ENCODING: &str = "transfer-desk-audit-event/v1";

/// The event as the log commits to it: its index, time, actor, action and request, and for
/// its detail only SHA-256(salt ‖ detail), so that no personal data is in the log itself.
pub fn canonical(event: &audit_event::Model, index: u64) -> Vec<u8> {
    let detail = match (&event.detail, &event.detail_salt) {
        (Some(detail), Some(salt)) => {
            let mut salted = salt.clone();
            salted.extend_from_slice(detail.as_bytes());
            crate::crypto::hex(&sha256(&salted))
        }
        (Some(detail), None) => crate::crypto::hex(&sha256(detail.as_bytes())),
        (None, _) => "-".to_owned(),
    };
    let request = event
        .request_id
        .map_or_else(|| "-".to_owned(), |id| id.hyphenated().to_string());
    format!(
        "{ENCODING}\nindex {index}\nat {}\nactor {}\naction {}\nrequest {request}\ndetail {detail}\n",
        event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        event.actor.replace('\n', " "),
        event.action,
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::audit_log::leaf_hash;

    fn hex(bytes: &[u8]) -> String {
        crate::crypto::hex(bytes)
    }

    /// The encoding is a contract with every checkpoint ever kept: this pins it.
    #[test]
    fn a_known_event_has_a_known_leaf_hash() {
        let event = audit_event::Model {
            id: 7,
            at: DateTime::parse_from_rfc3339("2026-11-30T18:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            actor: "alice".into(),
            action: "approval".into(),
            request_id: Some(uuid::Uuid::from_u128(0x1234)),
            detail: Some("1 of 1".into()),
            leaf_index: None,
            leaf_hash: None,
            detail_salt: Some(vec![0xab; 16]),
        };
        let encoded = canonical(&event, 41);
        assert_eq!(
            String::from_utf8(encoded.clone()).unwrap(),
            "transfer-desk-audit-event/v1\nindex 41\nat 2026-11-30T18:00:00.123456Z\nactor alice\n\
             action approval\nrequest 00000000-0000-0000-0000-000000001234\n\
             detail 38e82290239ec07b731817a2bf6f4bca5f25edb6afbe0e2304d414e49104e335\n"
        );
        assert_eq!(
            hex(&leaf_hash(&encoded)),
            "763d40b36838c7fd202441d28f01127f07dbd8f88c7d9e7f481820e8c88e4b09"
        );
    }
}
