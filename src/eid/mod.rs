//! Proving who one is with the Swiss e-ID (swiyu wallet, OpenID4VP, SD-JWT VC) instead of a
//! photo of an identity document. `protocol` is the verifier's pure protocol; around it:
//! the desk's verifier key, the trust list read at start, and the status list fetch over
//! HTTPS. The wallet sessions are the workflow's (`workflow::eid`); the settings are read
//! with the others (`platform::config::eid`).

pub mod protocol;

pub mod keys;
pub mod status;

pub use crate::platform::config::eid::EidSettings;

use sea_orm::ConnectionTrait;

use crate::platform::keyring::KeyRing;

/// What the desk needs to verify e-ID answers, built once at start when the e-ID is on.
pub struct Eid {
    pub settings: EidSettings,
    /// The accepted issuers and their keys, read from the trust file at start.
    pub trust: protocol::TrustList,
    pub verifier: protocol::VerifierKey,
    pub status: status::HttpsStatusSource,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Key(#[from] keys::KeyError),
    #[error("{0}")]
    Status(#[from] protocol::StatusFetchError),
    #[error("TRANSFER_DESK_EID_TRUST_FILE: {0}")]
    Trust(String),
}

impl Eid {
    /// The verifier key (made on the first start and sealed under the master key) and the
    /// status list client; `None` when the e-ID is not offered.
    pub async fn start(
        db: &impl ConnectionTrait,
        ring: &KeyRing,
        settings: Option<&EidSettings>,
    ) -> Result<Option<std::sync::Arc<Eid>>, StartError> {
        let Some(settings) = settings else {
            return Ok(None);
        };
        let trust = read_trust_file(&settings.trust_file)?;
        let (verifier, made) = keys::load_or_make(db, ring, &settings.verifier_did).await?;
        if made {
            tracing::warn!(
                kid = %verifier.key_id(),
                "made the e-ID verifier key (first start with the e-ID on): publish its public key in the DID document (transfer-desk eid key)"
            );
        }
        tracing::info!(
            did = %settings.verifier_did,
            issuers = trust.issuer_dids().len(),
            vcts = %settings.accepted_vcts.join(","),
            require_status = settings.require_status,
            "the e-ID is offered"
        );
        Ok(Some(std::sync::Arc::new(Eid {
            settings: settings.clone(),
            trust,
            verifier,
            status: status::HttpsStatusSource::new()?,
        })))
    }
}

/// The accepted issuers, from the operator's JSON file: `[{"did": "did:…", "keys": [JWK, …]}]`.
fn read_trust_file(path: &std::path::Path) -> Result<protocol::TrustList, StartError> {
    let json = std::fs::read_to_string(path)
        .map_err(|error| StartError::Trust(format!("cannot read {}: {error}", path.display())))?;
    protocol::TrustList::from_json(&json).map_err(|error| {
        StartError::Trust(format!(
            "{} is not a list of issuers with their keys ([{{\"did\": \"did:…\", \"keys\": [JWK, …]}}]): {error}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_or_garbled_trust_file_is_refused_by_name() {
        let unreadable = read_trust_file(std::path::Path::new("/nonexistent/trust.json"));
        let message = unreadable.err().unwrap().to_string();
        assert!(
            message
                .starts_with("TRANSFER_DESK_EID_TRUST_FILE: cannot read /nonexistent/trust.json"),
            "{message}"
        );
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("trust.json");
        std::fs::write(&garbage, "not json").unwrap();
        let message = read_trust_file(&garbage).err().unwrap().to_string();
        assert!(message.contains("is not a list of issuers"), "{message}");
        std::fs::write(&garbage, "[]").unwrap();
        assert!(read_trust_file(&garbage).is_ok_and(|trust| trust.issuer_dids().is_empty()));
    }
}
