//! The wallet sessions: each one 15 minutes and single use, with its own nonce, `state` and
//! ECDH key (sealed under the master key). The wallet fetches the signed request at
//! `request_uri` and posts its encrypted answer to `response_uri`; both carry the session's
//! id in their path, and the answer is matched to its session by that path alone. Once an
//! answer is verified, the session's private key is deleted in the same guarded update that
//! marks it answered, so a second answer (a replay) finds nothing to decrypt with.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use entities::enums::{EidSubject, RequestKind};
use entities::{eid_proof, eid_session, request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::keys::{open_session_key, seal_session_key, KeyError};
use super::protocol::{
    self, AuthorizationRequest, Expectations, ProtocolError, Refusal, SessionKey,
};
use super::Eid;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::{
    random_bytes, sha256, CryptoError, EidBrowserBinding, EidResponseCode,
};
use crate::platform::i18n::{Lang, Text};
use crate::workflow::eid as flow;
use crate::workflow::services::Services;

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
    #[error("the answer was refused: {0}")]
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
    services: &Services,
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
        sealed_key: Set(Some(seal_session_key(&services.master_key, id, &key)?)),
        browser_binding_hash: Set(Some(binding.hash().to_vec())),
        same_device: Set(false),
        created_at: Set(now),
        answered_at: Set(None),
        response_code_hash: Set(None),
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

/// The session, if it can still be answered and its request still waits for it.
async fn live_session(
    services: &Services,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(eid_session::Model, request::Model), SessionError> {
    let db = &services.db;
    let session = eid_session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .ok_or(SessionError::NotFound)?;
    if session.answered_at.is_some() {
        return Err(SessionError::Answered);
    }
    // Unanswered, within its 15 minutes, yet its key is gone: closed by the workflow.
    if session.sealed_key.is_none() && is_recent(&session, now) {
        return Err(SessionError::Closed);
    }
    if !is_live(&session, now) {
        return Err(SessionError::Expired);
    }
    let found = request::Entity::find_by_id(session.request_id)
        .one(db)
        .await?
        .ok_or(SessionError::NotFound)?;
    if !flow::waits_for(services, &found, session.subject, now) {
        return Err(SessionError::NotFound);
    }
    Ok((session, found))
}

fn is_recent(session: &eid_session::Model, now: DateTime<Utc>) -> bool {
    now < session.created_at + SESSION_LIFETIME
}

/// `https://desk.example/eid/sessions/<id>/response`
pub fn response_uri(base: &str, session_id: Uuid) -> String {
    format!("{base}/eid/sessions/{}/response", session_id.simple())
}

/// The request object's address: the QR code's, or the same-device link's.
pub fn request_uri(base: &str, session_id: Uuid, same_device: bool) -> String {
    let flow = if same_device { "/same-device" } else { "" };
    format!("{base}/eid/sessions/{}/request{flow}", session_id.simple())
}

/// What the wallet shows as the purpose, in the request's language.
fn purpose(found: &request::Model) -> String {
    let lang = Lang::from_code(&found.language).unwrap_or_default();
    let key = match found.kind {
        RequestKind::TransferCode => "eid-purpose-code",
        RequestKind::Nameservers => "eid-purpose-nameservers",
    };
    Text::new(key)
        .with("domain", found.domain.as_str())
        .in_lang(lang)
}

/// The signed request object for the wallet. `same_device`: fetched through the link on the
/// page rather than the QR code, so the answer will count only once the browser that
/// started the session brings back the response code.
pub async fn request_object(
    services: &Services,
    eid: &Eid,
    session_id: Uuid,
    same_device: bool,
    base: &str,
    now: DateTime<Utc>,
) -> Result<String, SessionError> {
    let (session, found) = live_session(services, session_id, now).await?;
    if same_device && !session.same_device {
        eid_session::Entity::update_many()
            .col_expr(eid_session::Column::SameDevice, Expr::value(true))
            .filter(eid_session::Column::Id.eq(session.id))
            .exec(&services.db)
            .await?;
    }
    let sealed = session
        .sealed_key
        .as_deref()
        .ok_or(SessionError::Answered)?;
    let key = open_session_key(&services.master_key, session.id, sealed)?;
    let response_uri = response_uri(base, session.id);
    let purpose = purpose(&found);
    let trusted = eid.settings.trust.issuer_dids();
    let request = AuthorizationRequest {
        response_uri: &response_uri,
        nonce: &session.nonce,
        state: &session.oauth_state,
        purpose: &purpose,
        accepted_vcts: &eid.settings.accepted_vcts,
        trusted_issuer_dids: &trusted,
        session_key: &key,
        now,
    };
    Ok(protocol::request_object(&eid.verifier, &request)?)
}

/// What the wallet is told after a verified answer: nothing, or (same device) where to send
/// the person back to, with the response code.
pub struct Answered {
    pub redirect_uri: Option<String>,
}

/// Verifies the wallet's `response` (a JWE) for the session, and records what it proved.
/// A cross-device answer counts at once; a same-device one once its browser confirms.
pub async fn answer(
    services: &Services,
    eid: &Eid,
    session_id: Uuid,
    response: &str,
    base: &str,
    now: DateTime<Utc>,
) -> Result<Answered, SessionError> {
    let (session, found) = live_session(services, session_id, now).await?;
    let sealed = session
        .sealed_key
        .as_deref()
        .ok_or(SessionError::Answered)?;
    let key = open_session_key(&services.master_key, session.id, sealed)?;
    let client_id = eid.verifier.client_id();
    let expectations = Expectations {
        client_id: &client_id,
        nonce: &session.nonce,
        state: &session.oauth_state,
        accepted_vcts: &eid.settings.accepted_vcts,
        require_status: eid.settings.require_status,
        trust: &eid.settings.trust,
        session_key: &key,
        now,
    };
    let proven = match protocol::verify_response(response, &expectations, &eid.status).await {
        Ok(proven) => proven,
        Err(refusal) => {
            let detail = format!("session {}: {refusal}", short(session.id));
            audit::record(
                &services.db,
                actor(session.subject),
                Action::EidRefused,
                Some(found.id),
                Some(&detail),
            )
            .await?;
            tracing::info!(request = %found.id, %refusal, "refused an e-ID answer");
            return Err(refusal.into());
        }
    };
    drop(key);
    let code = if session.same_device {
        Some(EidResponseCode::generate()?)
    } else {
        None
    };
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    // The one answer: the key goes with the update that marks the session answered.
    let taken = eid_session::Entity::update_many()
        .col_expr(eid_session::Column::AnsweredAt, Expr::value(Some(now)))
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            eid_session::Column::ResponseCodeHash,
            Expr::value(code.as_ref().map(|c| c.hash().to_vec())),
        )
        .filter(eid_session::Column::Id.eq(session.id))
        .filter(eid_session::Column::AnsweredAt.is_null())
        .filter(eid_session::Column::SealedKey.is_not_null())
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(SessionError::Answered);
    }
    let (differs_from_typed, differs_from_registrant) =
        flow::name_signals(&txn, &found, session.subject, &proven).await?;
    let proof = eid_proof::ActiveModel {
        session_id: Set(session.id),
        request_id: Set(found.id),
        subject: Set(session.subject),
        given_name: Set(proven.given_name.clone()),
        family_name: Set(proven.family_name.clone()),
        issuer_did: Set(proven.issuer_did.clone()),
        vct: Set(proven.vct.clone()),
        credential_digest: Set(proven.credential_digest.to_vec()),
        proven_at: Set(now),
        name_differs_from_typed: Set(differs_from_typed),
        name_differs_from_registrant: Set(differs_from_registrant),
        accepted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let detail = format!(
        "session {}: issuer {}, vct {}, credential sha-256 {}",
        short(session.id),
        proven.issuer_did,
        proven.vct,
        crate::platform::crypto::hex(&proven.credential_digest)
    );
    audit::record(
        &txn,
        actor(session.subject),
        Action::EidProven,
        Some(found.id),
        Some(&detail),
    )
    .await?;
    if code.is_none() {
        flow::accept(&txn, services, &proof, now).await?;
    }
    txn.commit().await?;
    tracing::info!(request = %found.id, same_device = session.same_device, "verified an e-ID answer");
    Ok(Answered {
        redirect_uri: code.map(|code| format!("{base}/eid/return?response_code={}", code.expose())),
    })
}

/// Where a confirmed same-device answer leads: the request and whose proof it was.
pub struct Confirmed {
    pub session_id: Uuid,
    pub request_id: Uuid,
    pub subject: EidSubject,
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

/// The browser that started a same-device session brings back the response code from the
/// wallet's redirect: only with both the code and that browser's secret does the answer
/// count (a session someone else started and sent to a victim never does).
pub async fn confirm(
    services: &Services,
    code: &EidResponseCode,
    binding: Option<&EidBrowserBinding>,
    now: DateTime<Utc>,
) -> Result<Confirmed, SessionError> {
    let session = session_of_code(&services.db, code, now)
        .await?
        .ok_or(SessionError::NotFound)?;
    let bound = match (binding, &session.browser_binding_hash) {
        (Some(binding), Some(expected)) => sha256(&binding.hash()) == sha256(expected),
        _ => false,
    };
    if !bound {
        return Err(SessionError::NotFound);
    }
    let proof = eid_proof::Entity::find_by_id(session.id)
        .one(&services.db)
        .await?
        .ok_or(SessionError::NotFound)?;
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    // The code is single use: it goes with the confirmation it brought.
    let used = eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::ResponseCodeHash,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(eid_session::Column::Id.eq(session.id))
        .filter(eid_session::Column::ResponseCodeHash.eq(code.hash().to_vec()))
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 || proof.accepted_at.is_some() {
        return Err(SessionError::NotFound);
    }
    if !flow::accept(&txn, services, &proof, now).await? {
        return Err(SessionError::Expired);
    }
    txn.commit().await?;
    Ok(Confirmed {
        session_id: session.id,
        request_id: session.request_id,
        subject: session.subject,
    })
}

fn actor(subject: EidSubject) -> Actor<'static> {
    match subject {
        EidSubject::Requester => Actor::Requester,
        EidSubject::Holder => Actor::Holder,
    }
}

fn short(id: Uuid) -> String {
    crate::workflow::short_id(id)
}

/// Deletes the keys of sessions past their 15 minutes, then (a day later) the sessions and
/// the same-device answers no browser confirmed. Returns the rows removed.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let keys = eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
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
