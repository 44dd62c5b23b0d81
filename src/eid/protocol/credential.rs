//! The issuer-signed part of an SD-JWT VC presentation (RFC 9901 §4–7, SD-JWT VC draft 15,
//! Swiss Profile VC): who signed it, with which key, of which type, valid when, bound to
//! which holder key.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::disclosures::{self, NEVER_DISCLOSED};
use super::error::Refusal;
use super::jose::{numeric_date, EcKey, Jws, JwsError};
use super::trust::TrustList;

/// Tolerated clock difference with issuers and wallets.
pub(crate) const LEEWAY_SECONDS: i64 = 60;

/// Whether the issuer may sign `name` in the clear: the claims kept out of disclosures and
/// the digests' own. Every other claim must come in a disclosure (Swiss Profile VC §3.2.2.4:
/// others "MUST be rejected").
fn is_plain_claim(name: &str) -> bool {
    NEVER_DISCLOSED.contains(&name) || name == "_sd" || name == "_sd_alg"
}

/// A presentation split into its parts: `<issuer JWT>~<disclosure>~…~<KB-JWT>`.
pub(crate) struct Presentation<'a> {
    pub issuer_jwt: &'a str,
    pub disclosures: Vec<&'a str>,
    pub key_binding: &'a str,
    /// Everything up to and including the last `~`: what the KB-JWT's `sd_hash` covers.
    pub hashed_part: &'a str,
}

impl<'a> Presentation<'a> {
    pub(crate) fn split(presentation: &'a str) -> Result<Self, Refusal> {
        let Some(last_tilde) = presentation.rfind('~') else {
            return Err(Refusal::MalformedPresentation("not an SD-JWT"));
        };
        let (hashed_part, key_binding) = presentation.split_at(last_tilde + 1);
        if key_binding.is_empty() {
            return Err(Refusal::KeyBindingMissing);
        }
        let mut parts = hashed_part[..last_tilde].split('~');
        let issuer_jwt = parts.next().unwrap_or("");
        let disclosures: Vec<&str> = parts.collect();
        if issuer_jwt.is_empty() || disclosures.iter().any(|d| d.is_empty()) {
            return Err(Refusal::MalformedPresentation("an empty part"));
        }
        Ok(Self {
            issuer_jwt,
            disclosures,
            key_binding,
            hashed_part,
        })
    }
}

/// An issuer-signed credential whose signature, issuer, type and dates hold.
#[derive(Debug)]
pub(crate) struct Credential {
    pub issuer_did: String,
    pub vct: String,
    /// The claims with the disclosures in place.
    pub claims: Map<String, Value>,
    pub holder_key: EcKey,
    pub status: Option<StatusReference>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusReference {
    pub idx: u64,
    pub uri: String,
}

pub(crate) fn verify(
    presentation: &Presentation<'_>,
    trust: &TrustList,
    accepted_vcts: &[String],
    now: DateTime<Utc>,
) -> Result<Credential, Refusal> {
    let jws = Jws::parse(presentation.issuer_jwt, &["dc+sd-jwt", "vc+sd-jwt"])
        .map_err(|error| jws_refusal(error, Refusal::MalformedPresentation("issuer JWT")))?;
    // The key comes from the kid's DID and that DID's listed keys, never from `iss`.
    let kid = jws
        .kid()
        .ok_or_else(|| Refusal::UntrustedIssuer("no kid".to_owned()))?;
    let (issuer_did, key) = trust.key(kid)?;
    if !jws.verified_by(key) {
        return Err(Refusal::BadSignature);
    }
    let claims = &jws.claims;
    match claims.get("iss") {
        None => {}
        Some(iss) if iss == issuer_did => {}
        Some(_) => {
            return Err(Refusal::UntrustedIssuer(
                "iss is not the kid's DID".to_owned(),
            ))
        }
    }
    if let Some(name) = claims.keys().find(|name| !is_plain_claim(name)) {
        return Err(Refusal::PlainClaim(name.clone()));
    }
    let vct = match claims.get("vct") {
        Some(Value::String(vct)) if accepted_vcts.contains(vct) => vct.clone(),
        other => return Err(Refusal::VctRefused(format!("{other:?}"))),
    };
    check_dates(claims, now)?;
    let holder_key = claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .and_then(EcKey::from_jwk)
        .ok_or(Refusal::KeyBindingInvalid("cnf.jwk is not a P-256 key"))?;
    let status = status_reference(claims)?;
    let claims = disclosures::resolve(jws.claims, &presentation.disclosures)?;
    Ok(Credential {
        issuer_did: issuer_did.to_owned(),
        vct,
        claims,
        holder_key,
        status,
    })
}

/// `exp`, `nbf` and `iat` (each optional, each a NumericDate), with [`LEEWAY_SECONDS`].
pub(crate) fn check_dates(claims: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), Refusal> {
    let date =
        |name| numeric_date(claims, name).map_err(|()| Refusal::MalformedPresentation("a date"));
    let now = now.timestamp();
    if date("exp")?.is_some_and(|exp| now > exp.saturating_add(LEEWAY_SECONDS)) {
        return Err(Refusal::Expired);
    }
    let not_before = [date("nbf")?, date("iat")?];
    if not_before
        .into_iter()
        .flatten()
        .any(|start| start > now.saturating_add(LEEWAY_SECONDS))
    {
        return Err(Refusal::NotYetValid);
    }
    Ok(())
}

/// `status.status_list` {`idx`, `uri`} (Token Status List §6.1), if the credential has one.
fn status_reference(claims: &Map<String, Value>) -> Result<Option<StatusReference>, Refusal> {
    let Some(status) = claims.get("status") else {
        return Ok(None);
    };
    let malformed = Refusal::StatusInvalid("the credential's status reference");
    let list = status.get("status_list").ok_or(malformed.clone())?;
    let idx = list
        .get("idx")
        .and_then(Value::as_u64)
        .ok_or(malformed.clone())?;
    let uri = list.get("uri").and_then(Value::as_str).ok_or(malformed)?;
    Ok(Some(StatusReference {
        idx,
        uri: uri.to_owned(),
    }))
}

/// A JWS parse error as a refusal: algorithm and type refusals keep their names.
pub(crate) fn jws_refusal(error: JwsError, malformed: Refusal) -> Refusal {
    match error {
        JwsError::Algorithm(alg) => Refusal::AlgorithmRefused(alg),
        JwsError::Type(typ) => Refusal::TypeRefused(typ),
        JwsError::Malformed => malformed,
    }
}
