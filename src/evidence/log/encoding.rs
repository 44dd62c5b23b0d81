//! How an event is encoded for the log: the bytes its leaf hash commits to.

use chrono::SecondsFormat;
use entities::audit_event;

use crate::platform::crypto::sha256;

/// The first line of every event's encoding; a new encoding gets a new version.
pub const ENCODING: &str = "transfer-desk-audit-event/v2";
/// The encoding of events recorded before every event had a salt of its own: they keep it,
/// so that the checkpoints signed over them still verify.
pub const ENCODING_V1: &str = "transfer-desk-audit-event/v1";
/// Bytes of an event's salt.
pub const SALT_BYTES: usize = 16;

/// The event as the log commits to it: its index, time, action and request, and for the
/// actor and the detail only hashes salted with the event's own salt (v2), so that neither
/// personal data nor anything guessable is in the log itself. Events without a salt were
/// recorded before v2 and keep the v1 encoding.
pub fn canonical(event: &audit_event::Model, index: u64) -> Vec<u8> {
    match &event.salt {
        Some(salt) => v2(event, index, salt),
        None => v1(event, index),
    }
}

fn v2(event: &audit_event::Model, index: u64, salt: &[u8]) -> Vec<u8> {
    let salted = |field: &str, value: &str| {
        let mut input = salt.to_vec();
        input.extend_from_slice(field.as_bytes());
        input.push(b' ');
        input.extend_from_slice(value.as_bytes());
        crate::platform::crypto::hex(&sha256(&input))
    };
    let detail = event
        .detail
        .as_deref()
        .map_or_else(|| "-".to_owned(), |detail| salted("detail", detail));
    format!(
        "{ENCODING}\nindex {index}\nat {}\nactor {}\naction {}\nrequest {}\ndetail {detail}\n",
        at(event),
        salted("actor", &event.actor),
        event.action,
        request(event),
    )
    .into_bytes()
}

/// v1: the actor as it is, and the detail as SHA-256(detail salt ‖ detail).
fn v1(event: &audit_event::Model, index: u64) -> Vec<u8> {
    let detail = match (&event.detail, &event.detail_salt) {
        (Some(detail), Some(salt)) => {
            let mut salted = salt.clone();
            salted.extend_from_slice(detail.as_bytes());
            crate::platform::crypto::hex(&sha256(&salted))
        }
        (Some(detail), None) => crate::platform::crypto::hex(&sha256(detail.as_bytes())),
        (None, _) => "-".to_owned(),
    };
    format!(
        "{ENCODING_V1}\nindex {index}\nat {}\nactor {}\naction {}\nrequest {}\ndetail {detail}\n",
        at(event),
        event.actor.replace('\n', " "),
        event.action,
        request(event),
    )
    .into_bytes()
}

fn at(event: &audit_event::Model) -> String {
    event.at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn request(event: &audit_event::Model) -> String {
    event
        .request_id
        .map_or_else(|| "-".to_owned(), |id| id.hyphenated().to_string())
}

/// A new event's salt.
pub fn new_salt() -> Result<Vec<u8>, crate::platform::crypto::CryptoError> {
    Ok(crate::platform::crypto::random_bytes::<SALT_BYTES>()?.to_vec())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::evidence::log::leaf_hash;

    fn hex(bytes: &[u8]) -> String {
        crate::platform::crypto::hex(bytes)
    }

    fn known_event(detail_salt: Option<Vec<u8>>, salt: Option<Vec<u8>>) -> audit_event::Model {
        audit_event::Model {
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
            detail_salt,
            salt,
        }
    }

    fn assert_encodes(event: &audit_event::Model, text: &str, leaf: &str) {
        let encoded = canonical(event, 41);
        assert_eq!(String::from_utf8(encoded.clone()).unwrap(), text);
        assert_eq!(hex(&leaf_hash(&encoded)), leaf);
    }

    /// The encoding is a contract with every checkpoint ever kept: this pins it (the hashes
    /// were computed apart, with Python's hashlib).
    #[test]
    fn a_known_event_has_a_known_leaf_hash() {
        assert_encodes(
            &known_event(None, Some(vec![0xcd; 16])),
            "transfer-desk-audit-event/v2\nindex 41\nat 2026-11-30T18:00:00.123456Z\n\
             actor 9935ff16592f12ebb66e29067679075f122b6678b2c3e3801c3086c2c3011df4\n\
             action approval\nrequest 00000000-0000-0000-0000-000000001234\n\
             detail 94083463763b196bbe422297ee741e048310145ed1b3b582c132e60d896775fa\n",
            "37b7697cdfd26a02be8a0c601f785897a8e11ee47b957d773ede4ec704443c32",
        );
    }

    /// Events recorded before every event had a salt keep their encoding (v1) and so the
    /// leaf hashes that the checkpoints signed over them.
    #[test]
    fn an_event_recorded_before_salts_keeps_its_v1_leaf_hash() {
        assert_encodes(
            &known_event(Some(vec![0xab; 16]), None),
            "transfer-desk-audit-event/v1\nindex 41\nat 2026-11-30T18:00:00.123456Z\nactor alice\n\
             action approval\nrequest 00000000-0000-0000-0000-000000001234\n\
             detail 38e82290239ec07b731817a2bf6f4bca5f25edb6afbe0e2304d414e49104e335\n",
            "763d40b36838c7fd202441d28f01127f07dbd8f88c7d9e7f481820e8c88e4b09",
        );
    }

    /// Without the salt, nobody tells which of a few guesses a leaf hash was made of.
    #[test]
    fn the_same_event_with_another_salt_has_another_leaf() {
        let one = canonical(&known_event(None, Some(vec![1; 16])), 41);
        let other = canonical(&known_event(None, Some(vec![2; 16])), 41);
        assert_ne!(leaf_hash(&one), leaf_hash(&other));
    }
}
