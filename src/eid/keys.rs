//! The desk's e-ID verifier key (ES256, P-256): made on the first start with the e-ID on,
//! kept in the database sealed under the master key (as the audit log's key is), resealed
//! by `keys rotate`. The per-session ECDH keys are sealed the same way, each bound to its
//! session, so that one session's sealed key cannot be moved to another.

use chrono::Utc;
use entities::{eid_session, eid_verifier_key};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::protocol::{ProtocolError, SessionKey, VerifierKey};
use crate::platform::crypto::CryptoError;
use crate::platform::keyring::{KeyRing, RotateError};

/// What the sealed verifier key is bound to.
pub const VERIFIER_KEY_CONTEXT: &[u8] = b"transfer-desk e-ID verifier key v1";
/// What a sealed session key is bound to, followed by the session's id.
const SESSION_KEY_CONTEXT: &[u8] = b"transfer-desk e-ID session key v1 ";

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

fn session_context(session_id: Uuid) -> Vec<u8> {
    [SESSION_KEY_CONTEXT, session_id.as_bytes()].concat()
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

/// Seals the verifier key and the live session keys under the `current` master key too,
/// so that retiring an older version never takes them with it.
pub async fn reseal(
    db: &impl ConnectionTrait,
    ring: &KeyRing,
    current: u32,
) -> Result<(), RotateError> {
    let under_current = |sealed: &[u8]| sealed.starts_with(&current.to_be_bytes());
    for stored in eid_verifier_key::Entity::find().all(db).await? {
        if under_current(&stored.sealed_private) {
            continue;
        }
        let private = ring
            .open_secret(VERIFIER_KEY_CONTEXT, &stored.sealed_private)
            .map_err(RotateError::Crypto)?;
        let resealed = ring
            .seal_secret(VERIFIER_KEY_CONTEXT, &private)
            .map_err(RotateError::Crypto)?;
        eid_verifier_key::Entity::update_many()
            .col_expr(
                eid_verifier_key::Column::SealedPrivate,
                Expr::value(resealed),
            )
            .filter(eid_verifier_key::Column::Name.eq(stored.name))
            .filter(eid_verifier_key::Column::SealedPrivate.eq(stored.sealed_private))
            .exec(db)
            .await?;
    }
    let live = eid_session::Entity::find()
        .filter(eid_session::Column::SealedKey.is_not_null())
        .all(db)
        .await?;
    for session in live {
        let Some(sealed) = session.sealed_key else {
            continue;
        };
        if under_current(&sealed) {
            continue;
        }
        let context = session_context(session.id);
        let private = ring
            .open_secret(&context, &sealed)
            .map_err(RotateError::Crypto)?;
        let resealed = ring
            .seal_secret(&context, &private)
            .map_err(RotateError::Crypto)?;
        // Guarded: a session answered meanwhile keeps its key deleted.
        eid_session::Entity::update_many()
            .col_expr(eid_session::Column::SealedKey, Expr::value(Some(resealed)))
            .filter(eid_session::Column::Id.eq(session.id))
            .filter(eid_session::Column::SealedKey.eq(sealed))
            .exec(db)
            .await?;
    }
    Ok(())
}
