//! Proving who one is with the e-ID, as the workflow sees it: a request waits in
//! `awaiting_eid` (or, for the holder, `awaiting_holder`) for a wallet's verified answer;
//! the answer moves it to review with no document stored. The requester may start a new
//! wallet session, or send photos instead. The wallet-facing protocol is in `crate::eid`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::enums::EidSubject;
use entities::{domain, eid_proof, eid_session, request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::documents::{sanitize_all, write_then};
use super::input::said_document_type;
use super::rules::retention_cutoff;
use super::state::{self, Guard, HolderLink, Step};
use super::{
    DocumentKind, Field, FieldErrors, FieldProblem, RequestState, RequesterRelation, SubmitError,
    Upload,
};
use crate::eid::protocol::ProvenIdentity;
use crate::eid::sessions::{self, NewSession, SessionError};
use crate::evidence::audit::{self, Action, Actor};
use crate::intake::mrz::disclosed_names_agree_with;
use crate::platform::crypto::{HolderToken, TrackingToken};
use crate::workflow::services::Services;

/// Whether the e-ID is offered at all (`TRANSFER_DESK_EID_VERIFIER_DID`).
pub fn offered(services: &Services) -> bool {
    services.eid.is_some()
}

/// Who may prove themselves with the e-ID on the form: the holder, and a signatory for
/// themselves; a representative also needs the holder's authorisation, which no e-ID gives.
pub fn offered_to(relation: RequesterRelation) -> bool {
    matches!(
        relation,
        RequesterRelation::Holder | RequesterRelation::Signatory
    )
}

/// Whether `found` still waits for `subject`'s e-ID at `now`.
pub fn waits_for(
    services: &Services,
    found: &request::Model,
    subject: EidSubject,
    now: DateTime<Utc>,
) -> bool {
    let within_retention = found.created_at > retention_cutoff(&services.settings, now);
    within_retention
        && match subject {
            EidSubject::Requester => found.state == RequestState::AwaitingEid,
            EidSubject::Holder => {
                found.state == RequestState::AwaitingHolder
                    && found.holder_link_expires_at.is_some_and(|end| end > now)
            }
        }
}

/// The signals the disclosed names fire, as a zone's names do: they are not the name typed
/// for this person, and (where the person should be the registrant) not the registrant's.
pub async fn name_signals(
    db: &impl ConnectionTrait,
    found: &request::Model,
    subject: EidSubject,
    proven: &ProvenIdentity,
) -> Result<(bool, bool), DbErr> {
    let agree =
        |typed: &str| disclosed_names_agree_with(&proven.family_name, &proven.given_name, typed);
    let typed = match subject {
        EidSubject::Requester => Some(found.requester_name.as_str()),
        EidSubject::Holder => found.holder_name.as_deref(),
    };
    let should_be_registrant =
        subject == EidSubject::Holder || found.relation == RequesterRelation::Holder;
    let registrant = domain::Entity::find_by_id(found.domain.clone())
        .one(db)
        .await?
        .map(|d| d.registrant_name);
    Ok((
        typed.is_some_and(|typed| !agree(typed)),
        should_be_registrant && registrant.is_some_and(|name| !agree(&name)),
    ))
}

/// The verified answer counts for its request: the request moves on to review (the holder's
/// confirmation, for the holder), in the caller's transaction. `false` when the request no
/// longer waits for it (expired meanwhile, or photos were sent instead).
pub async fn accept(
    txn: &impl ConnectionTrait,
    services: &Services,
    proof: &eid_proof::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let guard = Guard {
        created_after: Some(retention_cutoff(&services.settings, now)),
        holder_link: (proof.subject == EidSubject::Holder).then_some(HolderLink::Live),
        ..Guard::system(now)
    };
    let (step, actor) = match proof.subject {
        EidSubject::Requester => (Step::EidProven, Actor::Requester),
        EidSubject::Holder => (Step::HolderConfirms, Actor::Holder),
    };
    if !state::apply(txn, proof.request_id, step, &guard, None).await? {
        return Ok(false);
    }
    if proof.subject == EidSubject::Holder {
        request::Entity::update_many()
            .col_expr(request::Column::HolderAnsweredAt, Expr::value(Some(now)))
            .filter(request::Column::Id.eq(proof.request_id))
            .exec(txn)
            .await?;
    }
    eid_proof::Entity::update_many()
        .col_expr(eid_proof::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(eid_proof::Column::SessionId.eq(proof.session_id))
        .exec(txn)
        .await?;
    let detail = format!("session {}", super::short_id(proof.session_id));
    audit::record(
        txn,
        actor,
        Action::EidAccepted,
        Some(proof.request_id),
        Some(&detail),
    )
    .await?;
    if proof.subject == EidSubject::Holder {
        audit::record(
            txn,
            actor,
            Action::HolderConfirmed,
            Some(proof.request_id),
            None,
        )
        .await?;
    }
    Ok(true)
}

async fn by_tracking_token(
    db: &impl ConnectionTrait,
    token: &TrackingToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(request::Column::TrackingTokenHash.eq(token.hash().to_vec()))
        .one(db)
        .await
}

async fn by_holder_token(
    db: &impl ConnectionTrait,
    token: &HolderToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(request::Column::HolderTokenHash.eq(token.hash().to_vec()))
        .one(db)
        .await
}

/// A new wallet session for the request the tracking link opens, while it waits for the
/// e-ID (an earlier session expired, or the requester wants to start again).
pub async fn new_requester_session(
    services: &Services,
    token: &TrackingToken,
    now: DateTime<Utc>,
) -> Result<NewSession, SessionError> {
    let found = by_tracking_token(&services.db, token)
        .await?
        .ok_or(SessionError::NotFound)?;
    new_session(services, &found, EidSubject::Requester, now).await
}

/// A new wallet session for the holder who verifies directly, from their own page.
pub async fn new_holder_session(
    services: &Services,
    token: &HolderToken,
    now: DateTime<Utc>,
) -> Result<NewSession, SessionError> {
    let found = by_holder_token(&services.db, token)
        .await?
        .ok_or(SessionError::NotFound)?;
    new_session(services, &found, EidSubject::Holder, now).await
}

async fn new_session(
    services: &Services,
    found: &request::Model,
    subject: EidSubject,
    now: DateTime<Utc>,
) -> Result<NewSession, SessionError> {
    if !offered(services) || !waits_for(services, found, subject, now) {
        return Err(SessionError::NotFound);
    }
    // The new session takes the place of those still open: one live check per person.
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    close_open_sessions(&txn, found.id, subject).await?;
    let made = sessions::create(&txn, services, found.id, subject, now).await?;
    txn.commit().await?;
    Ok(made)
}

/// Deletes the keys of `subject`'s sessions for the request that were not answered: they
/// can no longer prove anything for it.
async fn close_open_sessions(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    subject: EidSubject,
) -> Result<(), DbErr> {
    eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::SealedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(eid_session::Column::RequestId.eq(request_id))
        .filter(eid_session::Column::Subject.eq(subject))
        .filter(eid_session::Column::SealedKey.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The session a page shows: the newest one that can still be answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveSession {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

pub async fn live_session(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    subject: EidSubject,
    now: DateTime<Utc>,
) -> Result<Option<LiveSession>, DbErr> {
    let newest = eid_session::Entity::find()
        .filter(eid_session::Column::RequestId.eq(request_id))
        .filter(eid_session::Column::Subject.eq(subject))
        .order_by_desc(eid_session::Column::CreatedAt)
        .one(db)
        .await?;
    Ok(newest
        .filter(|s| sessions::is_live(s, now))
        .map(|s| LiveSession {
            id: s.id,
            expires_at: s.created_at + sessions::SESSION_LIFETIME,
        }))
}

/// The request's state for the tracking page's poll: nothing but the state.
pub async fn state_for_requester(
    db: &impl ConnectionTrait,
    token: &TrackingToken,
) -> Result<Option<RequestState>, DbErr> {
    Ok(by_tracking_token(db, token).await?.map(|r| r.state))
}

/// The request's state for the holder page's poll.
pub async fn state_for_holder(
    db: &impl ConnectionTrait,
    token: &HolderToken,
) -> Result<Option<RequestState>, DbErr> {
    Ok(by_holder_token(db, token).await?.map(|r| r.state))
}

/// The e-ID proofs that count for a request (at most one per person).
pub async fn accepted_proofs(
    db: &impl ConnectionTrait,
    request_id: Uuid,
) -> Result<Vec<eid_proof::Model>, DbErr> {
    eid_proof::Entity::find()
        .filter(eid_proof::Column::RequestId.eq(request_id))
        .filter(eid_proof::Column::AcceptedAt.is_not_null())
        .order_by_asc(eid_proof::Column::ProvenAt)
        .all(db)
        .await
}

/// The signals the accepted proofs of `request_ids` fired, by request.
pub async fn signal_counts(
    db: &impl ConnectionTrait,
    request_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, usize>, DbErr> {
    let mut counts = HashMap::new();
    let rows: Vec<(Uuid, bool, bool)> = eid_proof::Entity::find()
        .select_only()
        .column(eid_proof::Column::RequestId)
        .column(eid_proof::Column::NameDiffersFromTyped)
        .column(eid_proof::Column::NameDiffersFromRegistrant)
        .filter(eid_proof::Column::RequestId.is_in(request_ids))
        .filter(eid_proof::Column::AcceptedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    for (id, typed, registrant) in rows {
        *counts.entry(id).or_default() += usize::from(typed) + usize::from(registrant);
    }
    Ok(counts)
}

/// The signals the accepted proofs of one request fired.
pub async fn signal_count(db: &impl ConnectionTrait, request_id: Uuid) -> Result<usize, DbErr> {
    Ok(signal_counts(db, vec![request_id])
        .await?
        .get(&request_id)
        .copied()
        .unwrap_or(0))
}

fn invalid(field: Field, problem: FieldProblem) -> SubmitError {
    SubmitError::Invalid(FieldErrors::from([(field, problem)]))
}

/// The requester sends photos of their identity document instead of using the e-ID (front
/// required, back optional), through the same intake as the form's. The request then waits
/// for review as a photo request does.
pub async fn photos_instead(
    services: &Services,
    token: &TrackingToken,
    said_type: &str,
    front: Option<Upload>,
    back: Option<Upload>,
    client_addr: &str,
) -> Result<(), SubmitError> {
    let found = by_tracking_token(&services.db, token)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let now = Utc::now();
    if !waits_for(services, &found, EidSubject::Requester, now) {
        return Err(invalid(Field::IdFront, FieldProblem::NothingAsked));
    }
    let said_type =
        said_document_type(said_type).map_err(|problem| invalid(Field::IdDocumentType, problem))?;
    let front = front.ok_or_else(|| invalid(Field::IdFront, FieldProblem::FrontMissing))?;
    if let Some(retry_after) = super::limits::count_intake(services, client_addr, now).await? {
        return Err(SubmitError::TooMany { retry_after });
    }
    let uploads = [
        (DocumentKind::IdFront, Some(front)),
        (DocumentKind::IdBack, back),
    ];
    let (clean, errors) = sanitize_all(services, uploads).await;
    if !errors.is_empty() {
        return Err(SubmitError::Invalid(errors));
    }
    write_then(services, found.id, &clean, now, async |documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        let guard = Guard {
            created_after: Some(retention_cutoff(&services.settings, now)),
            ..Guard::system(now)
        };
        if !state::apply(&txn, found.id, Step::PhotosInstead, &guard, None).await? {
            return Err(invalid(Field::IdFront, FieldProblem::NothingAsked));
        }
        request::Entity::update_many()
            .col_expr(request::Column::IdDocumentType, Expr::value(said_type))
            .filter(request::Column::Id.eq(found.id))
            .exec(&txn)
            .await?;
        entities::document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        close_open_sessions(&txn, found.id, EidSubject::Requester).await?;
        audit::record(
            &txn,
            Actor::Requester,
            Action::DocumentReplaced,
            Some(found.id),
            Some("photos instead of the e-ID"),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })
    .await?;
    tracing::info!(request = %found.id, "photos sent instead of the e-ID");
    Ok(())
}
