//! The wallet sessions' rows: each one 15 minutes and single use, with its own nonce,
//! `state` and ECDH key (sealed under the master key, deleted once answered or expired).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use entities::enums::EidSubject;
use entities::{eid_proof, eid_session};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::eid::keys::{seal_session_key, KeyError};
use crate::eid::protocol::{ProtocolError, Refusal, SessionKey};
use crate::platform::crypto::{random_bytes, CryptoError, EidBrowserBinding, EidResponseCode};
use crate::platform::keyring::KeyRing;

/// How long a wallet may take to answer a session.
pub const SESSION_LIFETIME: Duration = Duration::minutes(15);
/// How long answered and expired sessions are kept (their keys are gone by then), and
/// how long an unconfirmed same-device answer waits for its browser.
pub const SESSION_KEPT: Duration = Duration::days(1);

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no such session")]
    NotFound,
    #[error("the session was already answered")]
    Answered,
    #[error("the session has expired")]
    Expired,
    #[error("the session was closed: a newer one took its place, or photos were sent instead")]
    Closed,
    #[error("the answer was refused: {}", .0.summary())]
    Refused(#[from] Refusal),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("crypto error: {0}")]
    Crypto(#[from] CryptoError),
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
}

impl SessionError {
    /// The OAuth error code the wallet receives.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            SessionError::Refused(refusal) => refusal.oauth_error(),
            SessionError::NotFound
            | SessionError::Answered
            | SessionError::Expired
            | SessionError::Closed => "invalid_request",
            _ => "server_error",
        }
    }

    /// Whether the fault is the desk's (a 500), not the wallet's (a 400).
    pub fn is_internal(&self) -> bool {
        self.oauth_error() == "server_error"
    }
}

/// A session just made, and the secret its browser keeps in a cookie.
pub struct NewSession {
    pub id: Uuid,
    pub binding: EidBrowserBinding,
}

fn random_value() -> Result<String, CryptoError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// Makes a session for `subject` of `request_id`, in the caller's transaction.
pub async fn create(
    db: &impl ConnectionTrait,
    ring: &KeyRing,
    request_id: Uuid,
    subject: EidSubject,
    now: DateTime<Utc>,
) -> Result<NewSession, SessionError> {
    let id = Uuid::new_v4();
    let key = SessionKey::generate();
    let binding = EidBrowserBinding::generate()?;
    eid_session::ActiveModel {
        id: Set(id),
        request_id: Set(request_id),
        subject: Set(subject),
        nonce: Set(random_value()?),
        oauth_state: Set(random_value()?),
        sealed_key: Set(Some(seal_session_key(ring, id, &key)?)),
        browser_binding_hash: Set(Some(binding.hash().to_vec())),
        same_device: Set(false),
        created_at: Set(now),
        answered_at: Set(None),
        response_code_hash: Set(None),
        refused_answers: Set(0),
    }
    .insert(db)
    .await?;
    Ok(NewSession { id, binding })
}

/// Whether a session can still be answered at `now`.
pub fn is_live(session: &eid_session::Model, now: DateTime<Utc>) -> bool {
    session.answered_at.is_none()
        && session.sealed_key.is_some()
        && now < session.created_at + SESSION_LIFETIME
}

/// Deletes the keys of `subject`'s sessions for the request that were not answered: they
/// can no longer prove anything for it (a newer session took their place, or photos did).
pub async fn close_open(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    subject: EidSubject,
) -> Result<(), DbErr> {
    eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(eid_session::Column::Nonce, Expr::value(""))
        .col_expr(eid_session::Column::OauthState, Expr::value(""))
        .filter(eid_session::Column::RequestId.eq(request_id))
        .filter(eid_session::Column::Subject.eq(subject))
        .filter(eid_session::Column::SealedKey.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Answers a session may refuse before it is closed: a wallet that fails this often is not
/// going to succeed, and whoever holds the QR code cannot fill the audit trail.
pub const MAX_REFUSED_ANSWERS: i32 = 5;

/// Counts a refused answer to `session_id`; `true` when that was the last one the session
/// takes, and it is now closed (its key, nonce and state gone).
pub async fn count_refusal(db: &impl ConnectionTrait, session_id: Uuid) -> Result<bool, DbErr> {
    eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::RefusedAnswers,
            Expr::col(eid_session::Column::RefusedAnswers).add(1),
        )
        .filter(eid_session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    let closed = eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(eid_session::Column::Nonce, Expr::value(""))
        .col_expr(eid_session::Column::OauthState, Expr::value(""))
        .filter(eid_session::Column::Id.eq(session_id))
        .filter(eid_session::Column::SealedKey.is_not_null())
        .filter(eid_session::Column::RefusedAnswers.gte(MAX_REFUSED_ANSWERS))
        .exec(db)
        .await?;
    Ok(closed.rows_affected == 1)
}

/// The session a response code was handed out for, if it is still waiting for its browser.
pub async fn session_of_code(
    db: &impl ConnectionTrait,
    code: &EidResponseCode,
    now: DateTime<Utc>,
) -> Result<Option<eid_session::Model>, DbErr> {
    let found = eid_session::Entity::find()
        .filter(eid_session::Column::ResponseCodeHash.eq(code.hash().to_vec()))
        .one(db)
        .await?;
    Ok(found.filter(|s| s.answered_at.is_some_and(|at| now < at + SESSION_LIFETIME)))
}

/// Deletes the keys (and nonces) of sessions past their 15 minutes, then (a day later) the sessions and
/// the same-device answers no browser confirmed. Returns the rows removed.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let keys = eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(eid_session::Column::Nonce, Expr::value(""))
        .col_expr(eid_session::Column::OauthState, Expr::value(""))
        .filter(eid_session::Column::SealedKey.is_not_null())
        .filter(eid_session::Column::CreatedAt.lte(now - SESSION_LIFETIME))
        .exec(db)
        .await?
        .rows_affected;
    let old = now - SESSION_KEPT;
    let proofs = eid_proof::Entity::delete_many()
        .filter(eid_proof::Column::AcceptedAt.is_null())
        .filter(eid_proof::Column::ProvenAt.lte(old))
        .exec(db)
        .await?
        .rows_affected;
    let sessions = eid_session::Entity::delete_many()
        .filter(eid_session::Column::CreatedAt.lte(old))
        .exec(db)
        .await?
        .rows_affected;
    Ok(keys + proofs + sessions)
}
