//! Token Status List (draft-ietf-oauth-status-list, Swiss Profile VC): the credential's
//! entry in its issuer's signed status list. 0 is valid, 1 revoked ("invalid"), 2 suspended;
//! anything else, or a list we cannot read, refuses the credential.

use std::io::Read;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::credential::{jws_refusal, StatusReference, LEEWAY_SECONDS};
use super::error::Refusal;
use super::jose::{numeric_date, unb64, Jws};
use super::trust::TrustList;
use super::StatusListSource;

/// The largest status list token read, and the most its list may inflate to (the Swiss
/// registry caps both at 200 KB).
const MAX_TOKEN: usize = 1024 * 1024;
const MAX_LIST: u64 = 1024 * 1024;

/// Fetches and checks the list `reference` points to, signed by `issuer_did` itself.
pub(crate) async fn check<S: StatusListSource + Sync>(
    reference: &StatusReference,
    issuer_did: &str,
    trust: &TrustList,
    source: &S,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let token = source
        .fetch(&reference.uri)
        .await
        .map_err(|error| Refusal::StatusUnavailable(error.0))?;
    let status = status_in_token(&token, reference, issuer_did, trust, now)?;
    match status {
        0 => Ok(()),
        1 => Err(Refusal::Revoked),
        2 => Err(Refusal::Suspended),
        _ => Err(Refusal::StatusInvalid("an unknown status value")),
    }
}

fn status_in_token(
    token: &str,
    reference: &StatusReference,
    issuer_did: &str,
    trust: &TrustList,
    now: DateTime<Utc>,
) -> Result<u8, Refusal> {
    let invalid = Refusal::StatusInvalid;
    if token.len() > MAX_TOKEN {
        return Err(invalid("the token is too large"));
    }
    let jws = Jws::parse(token.trim(), &["statuslist+jwt"])
        .map_err(|error| jws_refusal(error, invalid("not a JWS")))?;
    let kid = jws.kid().ok_or(invalid("no kid"))?;
    // The same issuer (Swiss Profile VC §5.1), possibly with another of its keys.
    let (did, key) = trust.key(kid)?;
    if did != issuer_did {
        return Err(invalid("signed by another issuer"));
    }
    if !jws.verified_by(key) {
        return Err(invalid("bad signature"));
    }
    let claims = &jws.claims;
    if claims.get("sub").and_then(Value::as_str) != Some(reference.uri.as_str()) {
        return Err(invalid("sub is not the referenced uri"));
    }
    // Required (Swiss Profile VC §5.1): a list without an end could be replayed for ever,
    // hiding every later revocation.
    let exp = numeric_date(claims, "exp")
        .map_err(|()| invalid("exp"))?
        .ok_or(invalid("no exp"))?;
    if now.timestamp() > exp.saturating_add(LEEWAY_SECONDS) {
        return Err(invalid("expired"));
    }
    let list = claims.get("status_list").ok_or(invalid("no status_list"))?;
    let bits = list.get("bits").and_then(Value::as_u64).unwrap_or(0);
    let lst = list
        .get("lst")
        .and_then(Value::as_str)
        .ok_or(invalid("no lst"))?;
    let bytes = inflate_list(lst)?;
    status_at(&bytes, bits, reference.idx)
}

/// `lst`: base64url of the zlib-compressed (RFC 1950) byte array.
fn inflate_list(lst: &str) -> Result<Vec<u8>, Refusal> {
    let compressed = unb64(lst).ok_or(Refusal::StatusInvalid("lst is not base64url"))?;
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .take(MAX_LIST + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| Refusal::StatusInvalid("lst is not zlib"))?;
    if bytes.len() as u64 > MAX_LIST {
        return Err(Refusal::StatusInvalid("lst inflates beyond the limit"));
    }
    Ok(bytes)
}

/// The `bits`-wide status at `idx`, least significant bits first within each byte
/// (Token Status List §4.1).
pub(crate) fn status_at(bytes: &[u8], bits: u64, idx: u64) -> Result<u8, Refusal> {
    if !matches!(bits, 1 | 2 | 4 | 8) {
        return Err(Refusal::StatusInvalid("bits is not 1, 2, 4 or 8"));
    }
    let per_byte = 8 / bits;
    let byte = usize::try_from(idx / per_byte)
        .ok()
        .and_then(|at| bytes.get(at))
        .ok_or(Refusal::StatusInvalid("idx is beyond the list"))?;
    let shift = (idx % per_byte) * bits;
    let mask = ((1u16 << bits) - 1) as u8;
    Ok((byte >> shift) & mask)
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
