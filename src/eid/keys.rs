//! The desk's e-ID verifier key (ES256, P-256): made on the first start with the e-ID on,
//! kept in the database sealed under the master key (as the audit log's key is), resealed
//! by `keys rotate` (`platform::keyring`, which keeps every stored secret's context). The
//! per-session ECDH keys are sealed the same way, each bound to its session.

use chrono::Utc;
use entities::eid_verifier_key;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::protocol::{ProtocolError, SessionKey, VerifierKey};
use crate::platform::crypto::CryptoError;
use crate::platform::keyring::{
    eid_session_key_context as session_context, KeyRing,
    EID_VERIFIER_KEY_CONTEXT as VERIFIER_KEY_CONTEXT,
};

/// The one row's name: there is one verifier key, whatever the DID.
const NAME: &str = "verifier";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("the e-ID verifier key cannot be opened with the master keys: {0}")]
    Sealed(#[from] CryptoError),
    #[error("the e-ID verifier key is unusable: {0}")]
    Protocol(#[from] ProtocolError),
}

/// The verifier key, made and stored sealed if the database has none yet (another instance
/// making one at the same moment wins, and its key is used).
pub async fn load_or_make(
    db: &impl ConnectionTrait,
    ring: &KeyRing,
    did: &str,
) -> Result<(VerifierKey, bool), KeyError> {
    if let Some(stored) = eid_verifier_key::Entity::find_by_id(NAME).one(db).await? {
        return Ok((open(ring, did, &stored)?, false));
    }
    let pkcs8 = VerifierKey::generate_pkcs8()?;
    let key = VerifierKey::from_pkcs8(did, &pkcs8)?;
    let row = eid_verifier_key::ActiveModel {
        name: Set(NAME.to_owned()),
        public_jwk: Set(public_jwk_without_kid(&key).to_string()),
        sealed_private: Set(ring.seal_secret(VERIFIER_KEY_CONTEXT, &pkcs8)?),
        created_at: Set(Utc::now()),
    };
    match row.insert(db).await {
        Ok(_) => Ok((key, true)),
        Err(error) => {
            let stored = eid_verifier_key::Entity::find_by_id(NAME)
                .one(db)
                .await?
                .ok_or(KeyError::Database(error))?;
            Ok((open(ring, did, &stored)?, false))
        }
    }
}

fn open(
    ring: &KeyRing,
    did: &str,
    stored: &eid_verifier_key::Model,
) -> Result<VerifierKey, KeyError> {
    let pkcs8 = ring.open_secret(VERIFIER_KEY_CONTEXT, &stored.sealed_private)?;
    Ok(VerifierKey::from_pkcs8(did, &pkcs8)?)
}

/// The public key as stored for reference: the `kid` depends on the DID, which may change.
fn public_jwk_without_kid(key: &VerifierKey) -> serde_json::Value {
    let mut jwk = key.public_jwk();
    if let Some(object) = jwk.as_object_mut() {
        object.remove("kid");
    }
    jwk
}

/// A session's private key, sealed under the current master key and bound to the session.
pub fn seal_session_key(
    ring: &KeyRing,
    session_id: Uuid,
    key: &SessionKey,
) -> Result<Vec<u8>, CryptoError> {
    ring.seal_secret(&session_context(session_id), &key.to_bytes())
}

pub fn open_session_key(
    ring: &KeyRing,
    session_id: Uuid,
    sealed: &[u8],
) -> Result<SessionKey, KeyError> {
    let bytes: Zeroizing<Vec<u8>> = ring.open_secret(&session_context(session_id), sealed)?;
    Ok(SessionKey::from_bytes(&bytes)?)
}
