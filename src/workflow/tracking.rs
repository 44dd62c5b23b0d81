//! What the holder of a tracking token may see: state and timeline, nothing of the person.

use chrono::{DateTime, Utc};
use entities::{decision, request, request_event, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, DerivePartialModel, EntityTrait, FromQueryResult,
    JoinType, PartialModelTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use uuid::Uuid;

use super::{DocumentKind, Reason, RequestKind, RequestState};
use crate::platform::crypto::TrackingToken;
use crate::registry::codes::TransferCode;
use crate::workflow::services::Services;

#[derive(Debug, serde::Serialize)]
pub struct TrackingView {
    pub request_id: Uuid,
    pub domain: String,
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
    pub timeline: Vec<TimelineEntry>,
    /// While the state is `needs_document`: which document, and the reviewer's note.
    pub requested_document: Option<DocumentKind>,
    pub requested_note: Option<String>,
    /// Why the request was rejected or expired.
    pub reason: Option<Reason>,
    /// Once approved and until it expires: the code, opened with the requester's token.
    pub transfer_code: Option<String>,
    pub code_expires_at: Option<DateTime<Utc>>,
    pub kind: RequestKind,
    /// For a nameserver change: the host names asked for, and once approved, when the
    /// registry set them.
    pub nameservers: Option<Vec<String>>,
    pub nameservers_set_at: Option<DateTime<Utc>>,
    /// An approved change waiting for the registrant's objection window: when it is made.
    pub nameservers_due_at: Option<DateTime<Utc>>,
    /// When the holder verifies directly: their name as the requester gave it.
    pub holder_name: Option<String>,
    pub holder_link_expires_at: Option<DateTime<Utc>>,
    /// When the registrant on file objected and the code was cancelled.
    pub objected_at: Option<DateTime<Utc>>,
    /// With an objection window: when the approved code will be shown.
    pub code_available_at: Option<DateTime<Utc>>,
    /// When the registry refused the approved hand-off for good and staff were told. Never
    /// the registry's message: that is for staff (the column is not even read here).
    pub registry_failed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, serde::Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub event: String,
    pub note: Option<String>,
}

/// A request's events in order.
pub async fn timeline(
    db: &impl ConnectionTrait,
    request_id: Uuid,
) -> Result<Vec<TimelineEntry>, DbErr> {
    Ok(request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(request_id))
        .order_by_asc(request_event::Column::At)
        .order_by_asc(request_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(TimelineEntry::from)
        .collect())
}

impl From<request_event::Model> for TimelineEntry {
    fn from(event: request_event::Model) -> Self {
        TimelineEntry {
            at: event.at,
            event: event.kind,
            note: event.note,
        }
    }
}

/// Marks the request's tracking page as seen: `true` for the first view only, the one that
/// shows the welcome box with the private link to save. One guarded update, so that two
/// views at once cannot both be first.
pub async fn first_tracking_view(
    services: &Services,
    token: &TrackingToken,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = request::Entity::update_many()
        .col_expr(request::Column::WelcomedAt, Expr::value(Some(now)))
        .filter(super::rules::tracking_link(token))
        .filter(request::Column::WelcomedAt.is_null())
        .exec(&services.db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The columns of a request that a status answer reads (the tracking view, not the review).
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "request::Entity")]
struct RequestStatus {
    id: Uuid,
    domain: String,
    state: RequestState,
    created_at: DateTime<Utc>,
    kind: RequestKind,
    requested_document: Option<DocumentKind>,
    requested_note: Option<String>,
    nameservers: Option<String>,
    nameservers_set_at: Option<DateTime<Utc>>,
    hand_off_due_at: Option<DateTime<Utc>>,
    holder_name: Option<String>,
    holder_link_expires_at: Option<DateTime<Utc>>,
    objected_at: Option<DateTime<Utc>>,
    registry_refused_at: Option<DateTime<Utc>>,
}

/// One row per event (one without, for a request with no events yet).
#[derive(Debug, FromQueryResult)]
struct StatusRow {
    #[sea_orm(nested)]
    request: RequestStatus,
    event_at: Option<DateTime<Utc>>,
    event_kind: Option<String>,
    event_note: Option<String>,
}

/// The request and its timeline in one query of only the columns shown: status polls are the
/// busiest path, and each event's row would otherwise repeat the whole request.
async fn status_of(
    db: &impl ConnectionTrait,
    token: &TrackingToken,
    request_id: Option<Uuid>,
) -> Result<Option<(RequestStatus, Vec<TimelineEntry>)>, DbErr> {
    use request::Column as R;
    let mut query = RequestStatus::select_cols(request::Entity::find().select_only())
        .column_as(request_event::Column::At, "event_at")
        .column_as(request_event::Column::Kind, "event_kind")
        .column_as(request_event::Column::Note, "event_note")
        .join(JoinType::LeftJoin, request::Relation::RequestEvent.def())
        .filter(super::rules::tracking_link(token))
        .order_by_asc(request_event::Column::At)
        .order_by_asc(request_event::Column::Id);
    if let Some(id) = request_id {
        query = query.filter(R::Id.eq(id));
    }
    let mut rows = query.into_model::<StatusRow>().all(db).await?.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let events = std::iter::once((first.event_at, first.event_kind, first.event_note))
        .chain(rows.map(|row| (row.event_at, row.event_kind, row.event_note)));
    let timeline = events
        .filter_map(|(at, kind, note)| {
            Some(TimelineEntry {
                at: at?,
                event: kind?,
                note,
            })
        })
        .collect();
    Ok(Some((first.request, timeline)))
}

/// The request that `token` opens, optionally required to be `request_id`. Every miss —
/// unknown token, token of another request — is the same `None`. A request past its
/// retention is expired first.
pub async fn find_for_requester(
    services: &Services,
    token: &TrackingToken,
    request_id: Option<Uuid>,
) -> Result<Option<TrackingView>, DbErr> {
    let db = &services.db;
    let Some((found, timeline)) = status_of(db, token, request_id).await? else {
        return Ok(None);
    };
    // Only a request already past its retention costs a write here: status polls stay reads.
    let due = found.created_at
        <= crate::workflow::rules::retention_cutoff(&services.settings, Utc::now());
    let (found, timeline) = if due
        && super::state::is_pending(found.state)
        && super::expiry::expire_if_due(services, found.id, Utc::now()).await?
    {
        status_of(db, token, request_id)
            .await?
            .unwrap_or((found, timeline))
    } else {
        (found, timeline)
    };
    // Issuing lasts seconds and is not yet a decision: the requester still sees "submitted".
    let state = match found.state {
        RequestState::Issuing => RequestState::Submitted,
        state => state,
    };
    let reason = match state {
        RequestState::Rejected | RequestState::Expired => decision::Entity::find()
            .filter(decision::Column::RequestId.eq(found.id))
            .order_by_desc(decision::Column::Id)
            .one(db)
            .await?
            .map(|d| Reason {
                key: d.reason_key,
                text: d.reason,
            })
            .filter(|reason| !reason.is_empty()),
        _ => None,
    };
    let code = match state {
        RequestState::Approved => transfer_code::Entity::find_by_id(found.id).one(db).await?,
        _ => None,
    };
    let now = Utc::now();
    let window = chrono::Duration::hours(services.settings.objection_hours);
    let code_available_at = code
        .as_ref()
        .map(|c| c.issued_at + window)
        .filter(|at| *at > now && found.objected_at.is_none());
    let transfer_code = code
        .as_ref()
        .filter(|_| code_available_at.is_none())
        .filter(|c| c.expires_at > now)
        .and_then(|c| c.sealed_code.as_deref())
        .and_then(|sealed| TransferCode::open_with(token, found.id, sealed).ok())
        .map(|code| code.expose().to_owned());
    let needs_document = state == RequestState::NeedsDocument;
    let nameservers = found
        .nameservers
        .as_deref()
        .map(|hosts| hosts.lines().map(str::to_owned).collect());
    let approved_change = state == RequestState::Approved && found.kind == RequestKind::Nameservers;
    let nameservers_set_at = found.nameservers_set_at.filter(|_| approved_change);
    let nameservers_due_at = found
        .hand_off_due_at
        .filter(|_| approved_change && found.objected_at.is_none());
    let requested_document = found.requested_document.filter(|_| needs_document);
    // Waiting for a reviewer again, or approved but not carried out: the registry step is
    // what the requester waits for. After an objection the page says that instead.
    let registry_failed_at = found.registry_refused_at.filter(|_| {
        matches!(state, RequestState::Submitted | RequestState::Approved)
            && found.objected_at.is_none()
    });
    Ok(Some(TrackingView {
        request_id: found.id,
        domain: found.domain,
        state,
        created_at: found.created_at,
        timeline,
        requested_document,
        requested_note: found.requested_note.filter(|_| needs_document),
        reason,
        code_expires_at: code
            .filter(|_| transfer_code.is_some())
            .map(|c| c.expires_at),
        transfer_code,
        kind: found.kind,
        nameservers,
        nameservers_set_at,
        nameservers_due_at,
        holder_name: found.holder_name,
        holder_link_expires_at: found.holder_link_expires_at,
        objected_at: found.objected_at,
        code_available_at,
        registry_failed_at,
    }))
}
