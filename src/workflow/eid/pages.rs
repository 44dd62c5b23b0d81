//! What the requester's and the holder's pages ask of the e-ID: whether it is offered, a new
//! wallet session, the one a page shows, the state a page polls, photos instead; and for the
//! review, the proofs that count and the signals they fired.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::enums::EidSubject;
use entities::{eid_proof, eid_session, request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::acceptance::waits_for;
use super::sessions::{self, NewSession, SessionError};
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::{HolderToken, TrackingToken};
use crate::workflow::documents::{
    sanitize_identity_photos, write_then, IdentityOf, IdentityPhotos,
};
use crate::workflow::rules::{request_of_holder_link, request_of_tracking_link, retention_cutoff};
use crate::workflow::services::Services;
use crate::workflow::state::{self, Guard, Step};
use crate::workflow::{Field, FieldProblem, RequestState, RequesterRelation, SubmitError, Upload};

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

/// A new wallet session for the request the tracking link opens, while it waits for the
/// e-ID (an earlier session expired, or the requester wants to start again).
pub async fn new_requester_session(
    services: &Services,
    token: &TrackingToken,
    now: DateTime<Utc>,
) -> Result<NewSession, SessionError> {
    let found = request_of_tracking_link(&services.db, token)
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
    let found = request_of_holder_link(&services.db, token)
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
    sessions::close_open(&txn, found.id, subject).await?;
    let made = sessions::create(&txn, &services.master_key, found.id, subject, now).await?;
    txn.commit().await?;
    Ok(made)
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
    Ok(request_of_tracking_link(db, token).await?.map(|r| r.state))
}

/// The request's state for the holder page's poll.
pub async fn state_for_holder(
    db: &impl ConnectionTrait,
    token: &HolderToken,
) -> Result<Option<RequestState>, DbErr> {
    Ok(request_of_holder_link(db, token).await?.map(|r| r.state))
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
    let found = request_of_tracking_link(&services.db, token)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let now = Utc::now();
    if !waits_for(services, &found, EidSubject::Requester, now) {
        return Err(SubmitError::in_field(
            Field::IdFront,
            FieldProblem::NothingAsked,
        ));
    }
    let photos = IdentityPhotos {
        said_type,
        front,
        back,
    };
    let (said_type, clean) =
        sanitize_identity_photos(services, IdentityOf::Requester, photos, client_addr, now).await?;
    write_then(services, found.id, &clean, now, async |documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        let guard = Guard {
            created_after: Some(retention_cutoff(&services.settings, now)),
            ..Guard::system(now)
        };
        if !state::apply(&txn, found.id, Step::PhotosInstead, &guard, None).await? {
            return Err(SubmitError::in_field(
                Field::IdFront,
                FieldProblem::NothingAsked,
            ));
        }
        request::Entity::update_many()
            .col_expr(request::Column::IdDocumentType, Expr::value(said_type))
            .filter(request::Column::Id.eq(found.id))
            .exec(&txn)
            .await?;
        entities::document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        sessions::close_open(&txn, found.id, EidSubject::Requester).await?;
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
