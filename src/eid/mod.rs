//! Proving who one is with the Swiss e-ID (swiyu wallet, OpenID4VP, SD-JWT VC) instead of a
//! photo of an identity document. `protocol` is the verifier's pure protocol; around it:
//! the settings, the desk's verifier key, the wallet sessions, the status list fetch over
//! HTTPS, and the command that prints the key for the operator's DID document.

pub mod protocol;

pub mod command;
pub mod keys;
pub mod sessions;
pub mod settings;
pub mod status;

pub use settings::EidSettings;

use sea_orm::ConnectionTrait;

use crate::platform::keyring::KeyRing;

/// What the desk needs to verify e-ID answers, built once at start when the e-ID is on.
pub struct Eid {
    pub settings: EidSettings,
    pub verifier: protocol::VerifierKey,
    pub status: status::HttpsStatusSource,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Key(#[from] keys::KeyError),
    #[error("{0}")]
    Status(#[from] protocol::StatusFetchError),
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
        let (verifier, made) = keys::load_or_make(db, ring, &settings.verifier_did).await?;
        if made {
            tracing::warn!(
                kid = %verifier.key_id(),
                "made the e-ID verifier key (first start with the e-ID on): publish its public key in the DID document (transfer-desk eid key)"
            );
        }
        tracing::info!(
            did = %settings.verifier_did,
            issuers = settings.trust.issuer_dids().len(),
            vcts = %settings.accepted_vcts.join(","),
            require_status = settings.require_status,
            "the e-ID is offered"
        );
        Ok(Some(std::sync::Arc::new(Eid {
            settings: settings.clone(),
            verifier,
            status: status::HttpsStatusSource::new()?,
        })))
    }
}
