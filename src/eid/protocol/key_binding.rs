//! The key-binding JWT (RFC 9901 §4.3, §7.3): the holder's proof that this presentation is
//! for this verifier (`aud`), this session (`nonce`), now (`iat`), over exactly these
//! disclosures (`sd_hash`), signed by the key the issuer bound the credential to.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::credential::{jws_refusal, Presentation, LEEWAY_SECONDS};
use super::error::Refusal;
use super::jose::{b64, numeric_date, EcKey, Jws};

/// How old a key binding may be (issue 29: "iat within 5 minutes").
pub(crate) const MAX_AGE_SECONDS: i64 = 5 * 60;

pub(crate) fn verify(
    presentation: &Presentation<'_>,
    holder_key: &EcKey,
    client_id: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let jws = Jws::parse(presentation.key_binding, &["kb+jwt"])
        .map_err(|error| jws_refusal(error, Refusal::KeyBindingInvalid("not a JWS")))?;
    if !jws.verified_by(holder_key) {
        return Err(Refusal::KeyBindingInvalid(
            "not signed by the credential's holder key",
        ));
    }
    let claims = &jws.claims;
    if claims.get("aud").and_then(Value::as_str) != Some(client_id) {
        return Err(Refusal::WrongAudience);
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(Refusal::WrongNonce);
    }
    let issued = numeric_date(claims, "iat")
        .ok()
        .flatten()
        .ok_or(Refusal::KeyBindingInvalid("no iat"))?;
    let now = now.timestamp();
    if issued < now - MAX_AGE_SECONDS || issued > now + LEEWAY_SECONDS {
        return Err(Refusal::KeyBindingStale);
    }
    let expected = b64(ring::digest::digest(
        &ring::digest::SHA256,
        presentation.hashed_part.as_bytes(),
    )
    .as_ref());
    if claims.get("sd_hash").and_then(Value::as_str) != Some(expected.as_str()) {
        return Err(Refusal::KeyBindingInvalid(
            "sd_hash is not over this presentation",
        ));
    }
    Ok(())
}
