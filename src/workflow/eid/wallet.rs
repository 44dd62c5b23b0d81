//! The wallet's side of a session: it fetches the signed request at `request_uri` and posts
//! its encrypted answer to `response_uri`; both carry the session's id in their path, and
//! the answer is matched to its session by that path alone. Once an answer is verified, the
//! session's private key is deleted in the same guarded update that marks it answered, so a
//! second answer (a replay) finds nothing to decrypt with.

use chrono::{DateTime, Utc};
use entities::enums::{EidSubject, RequestKind};
use entities::{eid_proof, eid_session, request};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::acceptance::{accept, name_signals, waits_for};
use super::sessions::{count_refusal, is_live, session_of_code, SessionError, SESSION_LIFETIME};
use crate::eid::keys::open_session_key;
use crate::eid::protocol::{self, AuthorizationRequest, Expectations, ProvenIdentity};
use crate::eid::Eid;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::{sha256, EidBrowserBinding, EidResponseCode};
use crate::platform::i18n::{Lang, Text};
use crate::workflow::links::Links;
use crate::workflow::services::Services;

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
    if !waits_for(services, &found, session.subject, now) {
        return Err(SessionError::NotFound);
    }
    Ok((session, found))
}

fn is_recent(session: &eid_session::Model, now: DateTime<Utc>) -> bool {
    now < session.created_at + SESSION_LIFETIME
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
    links: &dyn Links,
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
    let response_uri = links.eid_response(session.id);
    let purpose = purpose(&found);
    let trusted = eid.trust.issuer_dids();
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
    links: &dyn Links,
    now: DateTime<Utc>,
) -> Result<Answered, SessionError> {
    let (session, found) = live_session(services, session_id, now).await?;
    let proven = verified(services, eid, &session, &found, response, now).await?;
    let code = if session.same_device {
        Some(EidResponseCode::generate()?)
    } else {
        None
    };
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    take(&txn, &session, code.as_ref(), now).await?;
    let proof = record_proof(&txn, &session, &found, &proven, now).await?;
    // A cross-device answer counts now, or not at all: when the request stopped waiting
    // meanwhile (photos sent instead, expired), nothing is kept and the wallet is told.
    if code.is_none() && !accept(&txn, services, &proof, now).await? {
        return Err(SessionError::Expired);
    }
    txn.commit().await?;
    tracing::info!(request = %found.id, same_device = session.same_device, "verified an e-ID answer");
    Ok(Answered {
        redirect_uri: code.map(|code| links.eid_return(code.expose())),
    })
}

/// What the answer proves, checked against everything the session expects; a refusal is
/// audited with its reason.
async fn verified(
    services: &Services,
    eid: &Eid,
    session: &eid_session::Model,
    found: &request::Model,
    response: &str,
    now: DateTime<Utc>,
) -> Result<ProvenIdentity, SessionError> {
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
        trust: &eid.trust,
        session_key: &key,
        now,
    };
    match protocol::verify_response(response, &expectations, &eid.status).await {
        Ok(proven) => Ok(proven),
        Err(refusal) => {
            let said = refusal.summary();
            let txn = crate::platform::db::begin_writing(&services.db).await?;
            let closed = match count_refusal(&txn, session.id).await? {
                true => " (the session is closed: too many refused answers)",
                false => "",
            };
            let detail = format!("session {}: {said}{closed}", short(session.id));
            audit::record(
                &txn,
                actor(session.subject),
                Action::EidRefused,
                Some(found.id),
                Some(&detail),
            )
            .await?;
            txn.commit().await?;
            tracing::info!(request = %found.id, refusal = %said, "refused an e-ID answer");
            Err(refusal.into())
        }
    }
}

/// The one answer: the session's key, nonce and `state` go with the update that marks it
/// answered, so a second answer finds nothing to decrypt with. `Answered` when another
/// answer came first.
async fn take(
    txn: &impl ConnectionTrait,
    session: &eid_session::Model,
    code: Option<&EidResponseCode>,
    now: DateTime<Utc>,
) -> Result<(), SessionError> {
    let taken = eid_session::Entity::update_many()
        .col_expr(eid_session::Column::AnsweredAt, Expr::value(Some(now)))
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(eid_session::Column::Nonce, Expr::value(""))
        .col_expr(eid_session::Column::OauthState, Expr::value(""))
        .col_expr(
            eid_session::Column::ResponseCodeHash,
            Expr::value(code.map(|c| c.hash().to_vec())),
        )
        .filter(eid_session::Column::Id.eq(session.id))
        .filter(eid_session::Column::AnsweredAt.is_null())
        .filter(eid_session::Column::SealedKey.is_not_null())
        .exec(txn)
        .await?;
    match taken.rows_affected {
        1 => Ok(()),
        _ => Err(SessionError::Answered),
    }
}

/// Keeps what was proven (the names, the issuer, the type, the credential's digest, and the
/// signals the names fire), and audits it.
async fn record_proof(
    txn: &impl ConnectionTrait,
    session: &eid_session::Model,
    found: &request::Model,
    proven: &ProvenIdentity,
    now: DateTime<Utc>,
) -> Result<eid_proof::Model, SessionError> {
    let (differs_from_typed, differs_from_registrant) =
        name_signals(txn, found, session.subject, proven).await?;
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
    .insert(txn)
    .await?;
    let detail = format!(
        "session {}: issuer {}, vct {}, credential sha-256 {}",
        short(session.id),
        proven.issuer_did,
        proven.vct,
        crate::platform::crypto::hex(&proven.credential_digest)
    );
    audit::record(
        txn,
        actor(session.subject),
        Action::EidProven,
        Some(found.id),
        Some(&detail),
    )
    .await?;
    Ok(proof)
}

/// Where a confirmed same-device answer leads: the request and whose proof it was.
pub struct Confirmed {
    pub session_id: Uuid,
    pub request_id: Uuid,
    pub subject: EidSubject,
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
    if !accept(&txn, services, &proof, now).await? {
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
