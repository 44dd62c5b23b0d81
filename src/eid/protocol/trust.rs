//! The accepted issuers and their keys, from the operator's trust file.
//!
//! An issuer's key is found from the `kid` of what it signed (`<did>#<fragment>`), never from
//! `iss`: the DID must be listed here and the key must be one of that DID's keys.

use serde_json::Value;

use super::error::{ProtocolError, Refusal};
use super::jose::EcKey;
use super::keys::is_did;

/// Accepted issuers and their keys: `[{"did": "did:…", "keys": [JWK with "kid", …]}]`.
#[derive(Debug, Clone)]
pub struct TrustList {
    issuers: Vec<Issuer>,
}

#[derive(Debug, Clone)]
struct Issuer {
    did: String,
    /// Absolute key ids (`<did>#<fragment>`) with their keys.
    keys: Vec<(String, EcKey)>,
}

impl TrustList {
    pub fn from_json(json: &str) -> Result<Self, ProtocolError> {
        let fail = |why: &str| ProtocolError::TrustList(why.to_owned());
        let value = super::json::parse_strict(json.as_bytes())
            .ok_or_else(|| fail("not JSON (or a member name given twice)"))?;
        let entries = value.as_array().ok_or_else(|| fail("not a JSON array"))?;
        let mut issuers: Vec<Issuer> = Vec::with_capacity(entries.len());
        for entry in entries {
            let issuer = Issuer::from_json(entry)?;
            if issuers.iter().any(|known| known.did == issuer.did) {
                return Err(fail(&format!("{} is listed twice", issuer.did)));
            }
            issuers.push(issuer);
        }
        Ok(Self { issuers })
    }

    pub fn issuer_dids(&self) -> Vec<String> {
        self.issuers
            .iter()
            .map(|issuer| issuer.did.clone())
            .collect()
    }

    /// The DID and key named by an absolute `kid`, if that DID is trusted and has that key.
    pub(crate) fn key(&self, kid: &str) -> Result<(&str, &EcKey), Refusal> {
        let Some((did, _fragment)) = kid.split_once('#') else {
            return Err(Refusal::UntrustedIssuer(format!(
                "kid {kid:?} is not <did>#<key>"
            )));
        };
        let issuer = self
            .issuers
            .iter()
            .find(|issuer| issuer.did == did)
            .ok_or_else(|| Refusal::UntrustedIssuer(did.to_owned()))?;
        issuer
            .keys
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| (issuer.did.as_str(), key))
            .ok_or_else(|| Refusal::UntrustedIssuer(format!("{did} has no key {kid}")))
    }
}

impl Issuer {
    fn from_json(entry: &Value) -> Result<Self, ProtocolError> {
        let fail = |why: String| ProtocolError::TrustList(why);
        let did = entry
            .get("did")
            .and_then(Value::as_str)
            .filter(|did| is_did(did))
            .ok_or_else(|| fail("an entry has no valid \"did\"".into()))?;
        let jwks = entry
            .get("keys")
            .and_then(Value::as_array)
            .filter(|keys| !keys.is_empty())
            .ok_or_else(|| fail(format!("{did} has no \"keys\"")))?;
        let mut keys = Vec::with_capacity(jwks.len());
        for jwk in jwks {
            let kid = absolute_kid(did, jwk.get("kid").and_then(Value::as_str))
                .ok_or_else(|| fail(format!("a key of {did} has no kid of this DID")))?;
            let usable = jwk.get("alg").is_none_or(|alg| alg == "ES256")
                && jwk.get("use").is_none_or(|usage| usage == "sig");
            let key = EcKey::from_jwk(jwk)
                .filter(|_| usable)
                .ok_or_else(|| fail(format!("{kid} is not a public P-256 ES256 key")))?;
            if keys.iter().any(|(known, _)| known == &kid) {
                return Err(fail(format!("{kid} is listed twice")));
            }
            keys.push((kid, key));
        }
        Ok(Self {
            did: did.to_owned(),
            keys,
        })
    }
}

/// `<did>#<fragment>` from a JWK's `kid`, which DID documents give as the absolute DID URL,
/// as `#fragment` or as the bare fragment.
fn absolute_kid(did: &str, kid: Option<&str>) -> Option<String> {
    let kid = kid?;
    let fragment = match kid.split_once('#') {
        Some(("", fragment)) => fragment,
        Some((prefix, fragment)) if prefix == did => fragment,
        Some(_) => return None,
        None => kid,
    };
    // A fragment holds no further '#' (swiyu's DID profile: a key id MUST NOT).
    (!fragment.is_empty() && !fragment.contains('#')).then(|| format!("{did}#{fragment}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"KID",
        "x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        "y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"}"#;

    fn list(kid: &str) -> Result<TrustList, ProtocolError> {
        TrustList::from_json(&format!(
            r#"[{{"did":"did:example:issuer","keys":[{}]}}]"#,
            KEY.replace("KID", kid)
        ))
    }

    #[test]
    fn a_key_is_found_by_its_absolute_kid_whatever_form_the_file_gives() {
        for kid in ["did:example:issuer#k1", "#k1", "k1"] {
            let trust = list(kid).unwrap();
            assert_eq!(trust.issuer_dids(), vec!["did:example:issuer".to_owned()]);
            assert!(trust.key("did:example:issuer#k1").is_ok(), "{kid}");
            assert!(trust.key("did:example:issuer#k2").is_err());
            assert!(trust.key("did:example:other#k1").is_err());
            assert!(trust.key("did:example:issuer").is_err());
        }
    }

    #[test]
    fn a_key_of_another_did_or_off_the_curve_or_private_is_refused() {
        assert!(list("did:example:other#k1").is_err());
        assert!(list("did:example:issuer#k1#k2").is_err());
        assert!(list("##k1").is_err());
        let off_curve = KEY.replace("SLW_", "TLW_");
        let json = format!(r#"[{{"did":"did:example:issuer","keys":[{off_curve}]}}]"#);
        assert!(TrustList::from_json(&json.replace("KID", "k1")).is_err());
        let private = KEY.replace("\"kty\"", "\"d\":\"AAAA\",\"kty\"");
        let json = format!(r#"[{{"did":"did:example:issuer","keys":[{private}]}}]"#);
        assert!(TrustList::from_json(&json.replace("KID", "k1")).is_err());
    }

    #[test]
    fn a_did_listed_twice_or_without_keys_is_refused() {
        let key = KEY.replace("KID", "k1");
        let twice = format!(
            r#"[{{"did":"did:example:a","keys":[{key}]}},{{"did":"did:example:a","keys":[{key}]}}]"#
        );
        assert!(TrustList::from_json(&twice).is_err());
        assert!(TrustList::from_json(r#"[{"did":"did:example:a","keys":[]}]"#).is_err());
        assert!(TrustList::from_json(r#"{"did":"did:example:a"}"#).is_err());
    }
}
