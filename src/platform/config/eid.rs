//! The e-ID settings: `TRANSFER_DESK_EID_VERIFIER_DID` turns proving with the e-ID on. The
//! trust file is named here and read (and refused) when the service starts, never later.

use std::path::PathBuf;

use super::ConfigError;

/// The Beta-ID's credential types (swiyu's public beta issuer), accepted unless
/// `TRANSFER_DESK_EID_VCT` says otherwise.
pub const DEFAULT_VCTS: &str = "betaid-sdjwt,urn:vct:ch.admin.bcs.betaid";

/// How the desk verifies e-ID presentations; absent when the e-ID is not offered.
#[derive(Clone, Debug)]
pub struct EidSettings {
    /// The desk's own DID (`TRANSFER_DESK_EID_VERIFIER_DID`), published by the operator with
    /// the public key that `transfer-desk eid key` prints.
    pub verifier_did: String,
    /// Where the accepted issuers are read from (`TRANSFER_DESK_EID_TRUST_FILE`).
    pub trust_file: PathBuf,
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
    fn a_verifier_did_needs_a_trust_file() {
        let did = ("TRANSFER_DESK_EID_VERIFIER_DID", "did:tdw:desk.example");
        let missing = from_vars(vars(&[did]));
        assert!(matches!(missing, Err(ConfigError::Invalid(m)) if m.contains("TRUST_FILE")));
        let named = from_vars(vars(&[
            did,
            ("TRANSFER_DESK_EID_TRUST_FILE", " /etc/td/trust.json "),
        ]));
        let named = named.unwrap().unwrap();
        assert_eq!(named.trust_file, PathBuf::from("/etc/td/trust.json"));
        assert_eq!(
            named.accepted_vcts,
            ["betaid-sdjwt", "urn:vct:ch.admin.bcs.betaid"]
        );
        assert!(named.require_status);
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
