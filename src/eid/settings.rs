//! The e-ID settings: `TRANSFER_DESK_EID_VERIFIER_DID` turns proving with the e-ID on; the
//! trust file is read (and refused) at start, never later.

use std::path::PathBuf;
use std::sync::Arc;

use super::protocol::TrustList;
use crate::platform::config::ConfigError;

/// The Beta-ID's credential types (swiyu's public beta issuer), accepted unless
/// `TRANSFER_DESK_EID_VCT` says otherwise.
pub const DEFAULT_VCTS: &str = "betaid-sdjwt,urn:vct:ch.admin.bcs.betaid";

/// How the desk verifies e-ID presentations; absent when the e-ID is not offered.
#[derive(Clone, Debug)]
pub struct EidSettings {
    /// The desk's own DID (`TRANSFER_DESK_EID_VERIFIER_DID`), published by the operator with
    /// the public key that `transfer-desk eid key` prints.
    pub verifier_did: String,
    /// Where the accepted issuers were read from (`TRANSFER_DESK_EID_TRUST_FILE`).
    pub trust_file: PathBuf,
    pub trust: Arc<TrustList>,
    /// The accepted credential types (`TRANSFER_DESK_EID_VCT`, comma-separated).
    pub accepted_vcts: Vec<String>,
    /// A credential without a status list reference is refused
    /// (`TRANSFER_DESK_EID_REQUIRE_STATUS`, default true).
    pub require_status: bool,
}

/// The e-ID settings from the variables `var` finds (empty values already count as unset).
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<EidSettings>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid(message);
    let Some(did) = var("TRANSFER_DESK_EID_VERIFIER_DID") else {
        let stray = [
            "TRANSFER_DESK_EID_TRUST_FILE",
            "TRANSFER_DESK_EID_VCT",
            "TRANSFER_DESK_EID_REQUIRE_STATUS",
        ];
        if let Some(name) = stray.into_iter().find(|name| var(name).is_some()) {
            return Err(invalid(format!(
                "{name} is set but TRANSFER_DESK_EID_VERIFIER_DID is not: the e-ID is offered only with the desk's own DID"
            )));
        }
        return Ok(None);
    };
    let verifier_did = did.trim().to_owned();
    if !is_did(&verifier_did) {
        return Err(invalid(
            "TRANSFER_DESK_EID_VERIFIER_DID must be a DID, e.g. did:tdw:… or did:webvh:… as registered with swiyu".into(),
        ));
    }
    let trust_file: PathBuf = var("TRANSFER_DESK_EID_TRUST_FILE")
        .map(|path| path.trim().into())
        .ok_or_else(|| {
            invalid("TRANSFER_DESK_EID_VERIFIER_DID needs TRANSFER_DESK_EID_TRUST_FILE: the JSON file of the issuers whose credentials are accepted".into())
        })?;
    let json = std::fs::read_to_string(&trust_file).map_err(|error| {
        invalid(format!(
            "TRANSFER_DESK_EID_TRUST_FILE: cannot read {}: {error}",
            trust_file.display()
        ))
    })?;
    let trust = TrustList::from_json(&json).map_err(|error| {
        invalid(format!(
            "TRANSFER_DESK_EID_TRUST_FILE: {} is not a list of issuers with their keys ([{{\"did\": \"did:…\", \"keys\": [JWK, …]}}]): {error}",
            trust_file.display()
        ))
    })?;
    let vcts = var("TRANSFER_DESK_EID_VCT").unwrap_or_else(|| DEFAULT_VCTS.to_owned());
    let accepted_vcts: Vec<String> = vcts
        .split(',')
        .map(|vct| vct.trim().to_owned())
        .filter(|vct| !vct.is_empty())
        .collect();
    if accepted_vcts.is_empty() {
        return Err(invalid(
            "TRANSFER_DESK_EID_VCT must name at least one credential type".into(),
        ));
    }
    let require_status = match var("TRANSFER_DESK_EID_REQUIRE_STATUS")
        .as_deref()
        .map(str::trim)
    {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(invalid(
                "TRANSFER_DESK_EID_REQUIRE_STATUS must be true or false".into(),
            ))
        }
    };
    Ok(Some(EidSettings {
        verifier_did,
        trust_file,
        trust: Arc::new(trust),
        accepted_vcts,
        require_status,
    }))
}

/// `did:<method>:<id>` with a lowercase method and no spaces (W3C DID syntax, loosely).
fn is_did(text: &str) -> bool {
    let mut parts = text.splitn(3, ':');
    let (Some("did"), Some(method), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !method.is_empty()
        && method
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '#' && c != '?')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn without_a_verifier_did_the_eid_is_off_and_its_other_settings_refused() {
        assert!(from_vars(vars(&[])).unwrap().is_none());
        let stray = from_vars(vars(&[("TRANSFER_DESK_EID_VCT", "x")]));
        assert!(matches!(stray, Err(ConfigError::Invalid(m)) if m.contains("VERIFIER_DID")));
    }

    #[test]
    fn a_verifier_did_needs_a_readable_trust_file() {
        let did = ("TRANSFER_DESK_EID_VERIFIER_DID", "did:tdw:desk.example");
        let missing = from_vars(vars(&[did]));
        assert!(matches!(missing, Err(ConfigError::Invalid(m)) if m.contains("TRUST_FILE")));
        let unreadable = from_vars(vars(&[
            did,
            ("TRANSFER_DESK_EID_TRUST_FILE", "/nonexistent/trust.json"),
        ]));
        assert!(
            matches!(unreadable, Err(ConfigError::Invalid(m)) if m.contains("cannot read /nonexistent/trust.json"))
        );
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("trust.json");
        std::fs::write(&garbage, "not json").unwrap();
        let refused = from_vars(vars(&[
            did,
            ("TRANSFER_DESK_EID_TRUST_FILE", garbage.to_str().unwrap()),
        ]));
        assert!(matches!(refused, Err(ConfigError::Invalid(m)) if m.contains("is not a list")));
    }

    #[test]
    fn only_dids_are_verifier_dids() {
        assert!(is_did(
            "did:tdw:QmX:identifier-reg.trust-infra.swiyu-int.admin.ch:api:v1:did:1"
        ));
        assert!(is_did("did:webvh:abc:desk.example"));
        for not in [
            "",
            "did:",
            "did:tdw:",
            "DID:tdw:x",
            "did:Tdw:x",
            "https://x",
            "did:tdw:a b",
            "did:tdw:x#k",
        ] {
            assert!(!is_did(not), "{not}");
        }
    }
}
