//! The wallet's answer, from the encrypted form field to the proven names, failing closed.

use serde_json::{Map, Value};

use super::credential::{self, Presentation};
use super::error::Refusal;
use super::json::parse_strict;
use super::request::CREDENTIAL_QUERY_ID;
use super::{jwe, key_binding, status, Expectations, ProvenIdentity, StatusListSource};

/// The largest `response` read at all.
pub(crate) const MAX_RESPONSE: usize = 256 * 1024;
/// The longest name accepted (the e-ID's names are far shorter).
const MAX_NAME_CHARS: usize = 200;

pub(crate) async fn run<S: StatusListSource + Sync>(
    response: &str,
    expectations: &Expectations<'_>,
    source: &S,
) -> Result<ProvenIdentity, Refusal> {
    if response.len() > MAX_RESPONSE {
        return Err(Refusal::TooLarge);
    }
    let plaintext = jwe::decrypt(response, expectations.session_key)?;
    let presentation_text = presentation_of(&plaintext, expectations.state)?;
    let presentation = Presentation::split(&presentation_text)?;
    let credential = credential::verify(
        &presentation,
        expectations.trust,
        expectations.accepted_vcts,
        expectations.now,
    )?;
    key_binding::verify(
        &presentation,
        &credential.holder_key,
        expectations.client_id,
        expectations.nonce,
        expectations.now,
    )?;
    match &credential.status {
        Some(reference) => {
            status::check(
                reference,
                &credential.issuer_did,
                expectations.trust,
                source,
                expectations.now,
            )
            .await?
        }
        None if expectations.require_status => return Err(Refusal::StatusMissing),
        None => {}
    }
    Ok(ProvenIdentity {
        given_name: name(&credential.claims, "given_name")?,
        family_name: name(&credential.claims, "family_name")?,
        issuer_did: credential.issuer_did,
        vct: credential.vct,
        credential_digest: crate::platform::crypto::sha256(presentation.issuer_jwt.as_bytes()),
    })
}

/// The one presentation of the decrypted payload `{"vp_token": {"identity": ["<SD-JWT>"]},
/// "state": "…"}` after checking `state`. The `vp_token` may also come as a string holding
/// that JSON object, as the federal verifier accepts; the pre-DCQL bare SD-JWT string is not.
fn presentation_of(plaintext: &[u8], state: &str) -> Result<String, Refusal> {
    let malformed = Refusal::MalformedPayload;
    let Some(Value::Object(mut payload)) = parse_strict(plaintext) else {
        return Err(malformed("not a JSON object"));
    };
    if payload.get("state").and_then(Value::as_str) != Some(state) {
        return Err(Refusal::WrongState);
    }
    let vp_token = match payload.remove("vp_token") {
        Some(Value::Object(map)) => map,
        Some(Value::String(text)) => match parse_strict(text.as_bytes()) {
            Some(Value::Object(map)) => map,
            _ => return Err(malformed("vp_token is not a DCQL response")),
        },
        _ => return Err(malformed("no vp_token object")),
    };
    single_presentation(vp_token)
}

/// Exactly one key, the credential query's id, holding exactly one presentation.
fn single_presentation(mut vp_token: Map<String, Value>) -> Result<String, Refusal> {
    let malformed = Refusal::MalformedPayload;
    if vp_token.len() != 1 {
        return Err(malformed("vp_token answers another query"));
    }
    match vp_token.remove(CREDENTIAL_QUERY_ID) {
        Some(Value::Array(items)) => match <[Value; 1]>::try_from(items) {
            Ok([Value::String(presentation)]) => Ok(presentation),
            _ => Err(malformed("not exactly one presentation")),
        },
        _ => Err(malformed("vp_token answers another query")),
    }
}

/// A disclosed name: a non-empty string without control characters.
fn name(claims: &Map<String, Value>, claim: &'static str) -> Result<String, Refusal> {
    let value = claims
        .get(claim)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(Refusal::ClaimMissing(claim))?;
    if value.chars().count() > MAX_NAME_CHARS || value.chars().any(char::is_control) {
        return Err(Refusal::MalformedPresentation(
            "a name is too long or has control characters",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
