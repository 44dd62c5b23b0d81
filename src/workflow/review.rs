//! Reviewing: the queue, exclusive claims, the review view, documents, and decisions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entities::{approval, decision, document, domain, request, reviewer, transfer_code};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::shred::{add_event, document_kinds, process_outbox, shred_documents};
use super::{event, DocumentKind, RequestState, TimelineEntry};
use crate::audit;
use crate::codes::{RecipientKey, TransferCode, SALT_LEN, VALIDITY_DAYS};
use crate::crypto::{self, DocumentBinding};
use crate::intake::Signals;
use crate::services::Services;

pub const CLAIM_LEASE: Duration = Duration::minutes(15);
pub const ISSUANCE_DEADLINE: Duration = Duration::hours(120);

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such request")]
    NotFound,
    #[error("this request is being reviewed by {holder}")]
    ClaimedByOther { holder: String },
    #[error("claim this request before deciding it")]
    NotClaimHolder,
    #[error("this request has already been decided")]
    AlreadyDecided,
    #[error(
        "you have already approved this request; another reviewer must give the second approval"
    )]
    AlreadyApproved,
    #[error("this request waits for a new document from the requester")]
    WaitingForDocument,
    #[error("{0}")]
    Invalid(String),
    #[error("the approval did not happen: {0}")]
    Registry(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("the document cannot be opened")]
    Unreadable,
}

pub fn short_id(id: Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

#[derive(Debug, Default)]
pub struct QueueFilter {
    pub state: Option<RequestState>,
    pub domain: Option<String>,
    pub mine: bool,
}

#[derive(Debug, serde::Serialize)]
pub struct QueueItem {
    pub id: Uuid,
    pub short_id: String,
    pub domain: String,
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
    pub age_hours: i64,
    pub hours_left: i64,
    pub overdue: bool,
    pub signal_count: usize,
    pub holder: Option<String>,
    pub held_by_me: bool,
}

fn lease_is_live(found: &request::Model, now: DateTime<Utc>) -> bool {
    found.claimed_by.is_some() && found.claim_expires_at.is_some_and(|until| until > now)
}

/// Requests oldest first, with their age, time left to the deadline, signals and holder.
pub async fn queue(
    db: &impl ConnectionTrait,
    filter: &QueueFilter,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<Vec<QueueItem>, DbErr> {
    let mut query = request::Entity::find().order_by_asc(request::Column::CreatedAt);
    query = match filter.state {
        Some(state) => query.filter(request::Column::State.eq(state.as_str())),
        None => query
            .filter(request::Column::State.is_in(RequestState::PENDING.map(RequestState::as_str))),
    };
    if let Some(text) = filter
        .domain
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        query = query.filter(request::Column::Domain.contains(text.to_lowercase()));
    }
    if filter.mine {
        query = query
            .filter(request::Column::ClaimedBy.eq(me.id))
            .filter(request::Column::ClaimExpiresAt.gt(now));
    }
    let requests = query.limit(500).all(db).await?;
    let ids: Vec<Uuid> = requests.iter().map(|r| r.id).collect();
    let mut signals: HashMap<Uuid, usize> = HashMap::new();
    for doc in document::Entity::find()
        .filter(document::Column::RequestId.is_in(ids))
        .all(db)
        .await?
    {
        *signals.entry(doc.request_id).or_default() += parse_signals(&doc.signals).fired();
    }
    let names = reviewer_names(db).await?;
    Ok(requests
        .into_iter()
        .map(|r| {
            let live = lease_is_live(&r, now);
            let deadline = r.created_at + ISSUANCE_DEADLINE;
            let state = RequestState::parse(&r.state).unwrap_or(RequestState::Submitted);
            QueueItem {
                short_id: short_id(r.id),
                age_hours: (now - r.created_at).num_hours(),
                hours_left: (deadline - now).num_hours(),
                overdue: state.is_pending() && deadline < now,
                signal_count: signals.get(&r.id).copied().unwrap_or(0),
                holder: r
                    .claimed_by
                    .filter(|_| live)
                    .and_then(|id| names.get(&id).cloned()),
                held_by_me: live && r.claimed_by == Some(me.id),
                id: r.id,
                domain: r.domain,
                state,
                created_at: r.created_at,
            }
        })
        .collect())
}

async fn reviewer_names(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, String>, DbErr> {
    Ok(reviewer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// A document's stored signals. Unreadable signals count as fired, so that they can only
/// make the four-eyes rule stricter, never looser.
fn parse_signals(json: &str) -> Signals {
    serde_json::from_str(json).unwrap_or(Signals {
        no_camera_data: true,
        ..Signals::default()
    })
}

/// Takes (or renews) the exclusive review lease. One conditional update, so two reviewers
/// claiming at once cannot both win.
pub async fn claim(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let taken = request::Entity::update_many()
        .col_expr(request::Column::ClaimedBy, Expr::value(me.id))
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(now + CLAIM_LEASE),
        )
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::State.is_in(RequestState::PENDING.map(RequestState::as_str)))
        .filter(
            Condition::any()
                .add(request::Column::ClaimedBy.is_null())
                .add(request::Column::ClaimExpiresAt.lte(now))
                .add(request::Column::ClaimedBy.eq(me.id)),
        )
        .exec(db)
        .await?;
    if taken.rows_affected == 1 {
        audit::record(db, &me.name, audit::CLAIM, Some(request_id), None).await?;
        return Ok(());
    }
    let found = request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if !RequestState::parse(&found.state).is_some_and(RequestState::is_pending) {
        return Err(ReviewError::AlreadyDecided);
    }
    let names = reviewer_names(db).await?;
    let holder = found
        .claimed_by
        .and_then(|id| names.get(&id).cloned())
        .unwrap_or_else(|| "another reviewer".into());
    Err(ReviewError::ClaimedByOther { holder })
}

/// Requests `me` has already approved (a second approval must come from someone else).
async fn approved_by(db: &impl ConnectionTrait, me: &reviewer::Model) -> Result<Vec<Uuid>, DbErr> {
    Ok(approval::Entity::find()
        .filter(approval::Column::ReviewerId.eq(me.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.request_id)
        .collect())
}

/// Claims the oldest unclaimed request waiting for review.
pub async fn claim_next(
    db: &impl ConnectionTrait,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ReviewError> {
    let candidates = request::Entity::find()
        .filter(request::Column::State.eq(RequestState::Submitted.as_str()))
        .filter(
            Condition::any()
                .add(request::Column::ClaimedBy.is_null())
                .add(request::Column::ClaimExpiresAt.lte(now)),
        )
        .filter(request::Column::Id.is_not_in(approved_by(db, me).await?))
        .order_by_asc(request::Column::CreatedAt)
        .limit(10)
        .all(db)
        .await?;
    for candidate in candidates {
        match claim(db, candidate.id, me, now).await {
            Ok(()) => return Ok(Some(candidate.id)),
            Err(ReviewError::ClaimedByOther { .. } | ReviewError::AlreadyDecided) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// Gives a claim back; an admin may release anyone's.
pub async fn release(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
) -> Result<(), ReviewError> {
    let mut update = request::Entity::update_many()
        .col_expr(
            request::Column::ClaimedBy,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(request::Column::Id.eq(request_id));
    if !me.is_admin {
        update = update.filter(request::Column::ClaimedBy.eq(me.id));
    }
    let released = update.exec(db).await?;
    if released.rows_affected == 1 {
        audit::record(db, &me.name, audit::RELEASE, Some(request_id), None).await?;
        Ok(())
    } else {
        Err(ReviewError::NotClaimHolder)
    }
}

#[derive(Debug, serde::Serialize)]
pub struct DocumentSummary {
    pub id: Uuid,
    pub kind: String,
    pub label: &'static str,
    pub width: i32,
    pub height: i32,
    pub signals: Signals,
    pub readable: bool,
}

#[derive(Debug, serde::Serialize)]
pub struct OtherRequest {
    pub domain: String,
    pub created_at: DateTime<Utc>,
    pub state: String,
}

#[derive(Debug, serde::Serialize)]
pub struct ReviewView {
    pub id: Uuid,
    pub short_id: String,
    pub state: RequestState,
    pub domain: String,
    pub requester_name: String,
    pub requester_email: String,
    pub requester_phone: Option<String>,
    pub relation: String,
    pub created_at: DateTime<Utc>,
    pub hours_left: i64,
    pub overdue: bool,
    pub registrant: Option<Registrant>,
    pub name_matches: bool,
    pub email_matches: bool,
    pub documents: Vec<DocumentSummary>,
    pub signal_count: usize,
    pub same_address_elsewhere: Vec<OtherRequest>,
    pub same_email_elsewhere: Vec<OtherRequest>,
    pub earlier_rejections: Vec<Rejection>,
    pub approvals: Vec<String>,
    pub approvals_required: usize,
    pub holder: Option<String>,
    pub held_by_me: bool,
    pub requested_document: Option<String>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, serde::Serialize)]
pub struct Registrant {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Rejection {
    pub decided_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// Names compared without accents, case or extra spaces: "JÖRG  müller" = "Jorg Muller".
pub fn names_match(a: &str, b: &str) -> bool {
    let fold = |s: &str| {
        deunicode::deunicode(s)
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (a, b) = (fold(a), fold(b));
    !a.is_empty() && a == b
}

pub async fn review_view(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<ReviewView, ReviewError> {
    let db = &services.db;
    let found = request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let state = RequestState::parse(&found.state).unwrap_or(RequestState::Submitted);
    let registrant = domain::Entity::find_by_id(found.domain.clone())
        .one(db)
        .await?
        .map(|d| Registrant {
            name: d.registrant_name,
            email: d.registrant_email,
            phone: d.registrant_phone,
        });
    let documents: Vec<DocumentSummary> = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .order_by_asc(document::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|d| d.wrapped_key.is_some() || !state.is_pending())
        .map(|d| DocumentSummary {
            id: d.id,
            label: DocumentKind::parse(&d.kind).map_or("document", DocumentKind::label),
            kind: d.kind,
            width: d.width,
            height: d.height,
            signals: parse_signals(&d.signals),
            readable: d.wrapped_key.is_some(),
        })
        .collect();
    let signal_count = documents
        .iter()
        .filter(|d| d.readable)
        .map(|d| d.signals.fired())
        .sum();
    let since = now - Duration::hours(24);
    let same_address_elsewhere = match &found.client_addr {
        Some(addr) => {
            recent_elsewhere(db, request::Column::ClientAddr, addr, &found, since).await?
        }
        None => Vec::new(),
    };
    let same_email_elsewhere = recent_elsewhere(
        db,
        request::Column::RequesterEmail,
        &found.requester_email,
        &found,
        since,
    )
    .await?;
    let same_domain: Vec<Uuid> = request::Entity::find()
        .filter(request::Column::Domain.eq(found.domain.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let earlier_rejections = decision::Entity::find()
        .filter(decision::Column::RequestId.is_in(same_domain))
        .filter(decision::Column::Outcome.eq(RequestState::Rejected.as_str()))
        .filter(decision::Column::RequestId.ne(request_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| Rejection {
            decided_at: d.decided_at,
            reason: d.reason,
        })
        .collect();
    let names = reviewer_names(db).await?;
    let approvals = approval::Entity::find()
        .filter(approval::Column::RequestId.eq(request_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| names.get(&a.reviewer_id).cloned().unwrap_or_default())
        .collect();
    let timeline = super::tracking::timeline(db, request_id).await?;
    let live = lease_is_live(&found, now);
    let deadline = found.created_at + ISSUANCE_DEADLINE;
    Ok(ReviewView {
        id: found.id,
        short_id: short_id(found.id),
        state,
        name_matches: registrant
            .as_ref()
            .is_some_and(|r| names_match(&r.name, &found.requester_name)),
        email_matches: registrant
            .as_ref()
            .is_some_and(|r| r.email.eq_ignore_ascii_case(&found.requester_email)),
        registrant,
        approvals_required: services.settings.approvals.required(signal_count),
        signal_count,
        documents,
        same_address_elsewhere,
        same_email_elsewhere,
        earlier_rejections,
        approvals,
        holder: found
            .claimed_by
            .filter(|_| live)
            .and_then(|id| names.get(&id).cloned()),
        held_by_me: live && found.claimed_by == Some(me.id),
        requested_document: found.requested_document.clone(),
        hours_left: (deadline - now).num_hours(),
        overdue: state.is_pending() && deadline < now,
        timeline,
        domain: found.domain,
        requester_name: found.requester_name,
        requester_email: found.requester_email,
        requester_phone: found.requester_phone,
        relation: found.relation,
        created_at: found.created_at,
    })
}

/// Other requests since `since`, for other domains, sharing `column = value` with `found`.
async fn recent_elsewhere(
    db: &impl ConnectionTrait,
    column: request::Column,
    value: &str,
    found: &request::Model,
    since: DateTime<Utc>,
) -> Result<Vec<OtherRequest>, DbErr> {
    Ok(request::Entity::find()
        .filter(column.eq(value))
        .filter(request::Column::Id.ne(found.id))
        .filter(request::Column::Domain.ne(found.domain.as_str()))
        .filter(request::Column::CreatedAt.gte(since))
        .all(db)
        .await?
        .into_iter()
        .map(|r| OtherRequest {
            domain: r.domain,
            created_at: r.created_at,
            state: r.state,
        })
        .collect())
}

/// Decrypts one document in memory and watermarks it with the viewer, the time and the
/// request. Only a live document of this very request opens; every view is audited.
pub async fn view_document(
    services: &Services,
    request_id: Uuid,
    document_id: Uuid,
    viewer: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, ReviewError> {
    let found = document::Entity::find_by_id(document_id)
        .filter(document::Column::RequestId.eq(request_id))
        .one(&services.db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let wrapped = found.wrapped_key.as_ref().ok_or(ReviewError::NotFound)?;
    let binding = DocumentBinding {
        request_id,
        document_id,
        key_version: u32::try_from(found.key_version).map_err(|_| ReviewError::Unreadable)?,
    };
    let data_key = services
        .master_key
        .unwrap(wrapped, &binding)
        .map_err(|_| ReviewError::Unreadable)?;
    let detail = format!("{} (key version {})", found.kind, found.key_version);
    audit::record(
        &services.db,
        &viewer.name,
        audit::KEY_USE,
        Some(request_id),
        Some(&detail),
    )
    .await?;
    let store = services.store.clone();
    let name = found.storage_name.clone();
    let stamp = format!(
        "{} {} #{}",
        viewer.name,
        now.format("%Y-%m-%d %H:%M UTC"),
        short_id(request_id)
    );
    let viewed = tokio::task::spawn_blocking(move || {
        let sealed = store.get(&name).map_err(|_| ReviewError::Unreadable)?;
        let plain = data_key
            .open_document(&binding, &sealed)
            .map_err(|_| ReviewError::Unreadable)?;
        crate::watermark::watermark_jpeg(&plain, &stamp).map_err(|_| ReviewError::Unreadable)
    })
    .await
    .map_err(|_| ReviewError::Unreadable)??;
    audit::record(
        &services.db,
        &viewer.name,
        audit::DOCUMENT_VIEW,
        Some(request_id),
        Some(&found.kind),
    )
    .await?;
    // Looking at the documents is review activity: the holder's lease is renewed.
    request::Entity::update_many()
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(now + CLAIM_LEASE),
        )
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::ClaimedBy.eq(viewer.id))
        .filter(request::Column::ClaimExpiresAt.gt(now))
        .exec(&services.db)
        .await?;
    Ok(viewed)
}

#[derive(Debug, PartialEq, Eq)]
pub enum ApproveOutcome {
    /// The code was issued.
    Approved,
    /// More approvals from other reviewers are needed.
    ApprovalRecorded { have: usize, need: usize },
}

/// Loads a request the caller holds the live claim on, in a decidable state.
async fn held_request(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<request::Model, ReviewError> {
    let found = request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if !RequestState::parse(&found.state).is_some_and(RequestState::is_pending) {
        return Err(ReviewError::AlreadyDecided);
    }
    if found.claimed_by != Some(me.id) || !lease_is_live(&found, now) {
        return Err(ReviewError::NotClaimHolder);
    }
    Ok(found)
}

/// Moves a held request from a pending state to `to`. The guard on state and claim makes
/// two concurrent decisions produce exactly one transition.
async fn transition(
    txn: &impl ConnectionTrait,
    found: &request::Model,
    me: &reviewer::Model,
    to: RequestState,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let moved = request::Entity::update_many()
        .col_expr(request::Column::State, Expr::value(to.as_str()))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            request::Column::DecidedAt,
            Expr::value((!to.is_pending()).then_some(now)),
        )
        .col_expr(
            request::Column::ClaimedBy,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(request::Column::Id.eq(found.id))
        .filter(request::Column::State.eq(found.state.as_str()))
        .filter(request::Column::ClaimedBy.eq(me.id))
        .filter(request::Column::ClaimExpiresAt.gt(now))
        .exec(txn)
        .await?;
    if moved.rows_affected == 1 {
        Ok(())
    } else {
        Err(ReviewError::AlreadyDecided)
    }
}

async fn record_decision(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    outcome: RequestState,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    decision::ActiveModel {
        request_id: Set(request_id),
        reviewer_id: Set(Some(me.id)),
        reviewer_name: Set(me.name.clone()),
        outcome: Set(outcome.as_str().to_owned()),
        reason: Set(reason.clone()),
        document_kinds: Set(document_kinds(txn, request_id).await?),
        decided_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let detail = match &reason {
        Some(reason) => format!("{}: {reason}", outcome.as_str()),
        None => outcome.as_str().to_owned(),
    };
    audit::record(
        txn,
        &me.name,
        audit::DECISION,
        Some(request_id),
        Some(&detail),
    )
    .await
}

pub async fn approve(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<ApproveOutcome, ReviewError> {
    let db = &services.db;
    let found = held_request(db, request_id, me, now).await?;
    if found.state != RequestState::Submitted.as_str() {
        return Err(ReviewError::WaitingForDocument);
    }
    let approvals = approval::Entity::find()
        .filter(approval::Column::RequestId.eq(request_id))
        .all(db)
        .await?;
    if approvals.iter().any(|a| a.reviewer_id == me.id) {
        return Err(ReviewError::AlreadyApproved);
    }
    let signals: usize = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(document::Column::WrappedKey.is_not_null())
        .all(db)
        .await?
        .iter()
        .map(|d| parse_signals(&d.signals).fired())
        .sum();
    let need = services.settings.approvals.required(signals);
    let have = approvals.len() + 1;
    if have < need {
        let txn = db.begin().await?;
        approval::ActiveModel {
            request_id: Set(request_id),
            reviewer_id: Set(me.id),
            approved_at: Set(now),
        }
        .insert(&txn)
        .await?;
        // Hand the request back so that a second reviewer can claim it.
        release(&txn, request_id, me).await?;
        let detail = format!("approval {have} of {need}");
        audit::record(
            &txn,
            &me.name,
            audit::APPROVAL,
            Some(request_id),
            Some(&detail),
        )
        .await?;
        txn.commit().await?;
        return Ok(ApproveOutcome::ApprovalRecorded { have, need });
    }

    let recipient = found
        .code_recipient_key
        .as_deref()
        .and_then(RecipientKey::from_bytes)
        .ok_or(ReviewError::Unreadable)?;
    let code = TransferCode::generate().map_err(|_| ReviewError::Unreadable)?;
    let salt = crypto::random_bytes::<SALT_LEN>().map_err(|_| ReviewError::Unreadable)?;
    let sealed = code
        .seal_to(&recipient, request_id)
        .map_err(|_| ReviewError::Unreadable)?;
    let means = match &services.settings.registry_command {
        Some(command) => {
            crate::registry::hand_off(command, &found.domain, &code)
                .await
                .map_err(ReviewError::Registry)?;
            "tracking link; registry command"
        }
        None => "tracking link",
    };

    let txn = db.begin().await?;
    transition(&txn, &found, me, RequestState::Approved, now).await?;
    approval::ActiveModel {
        request_id: Set(request_id),
        reviewer_id: Set(me.id),
        approved_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_decision(&txn, request_id, me, RequestState::Approved, None, now).await?;
    transfer_code::ActiveModel {
        request_id: Set(request_id),
        domain: Set(found.domain.clone()),
        salt: Set(salt.to_vec()),
        code_hash: Set(code.salted_hash(&salt).to_vec()),
        sealed_code: Set(Some(sealed)),
        recipient: Set(format!(
            "{} <{}>",
            found.requester_name, found.requester_email
        )),
        means: Set(means.to_owned()),
        issued_at: Set(now),
        expires_at: Set(now + Duration::days(VALIDITY_DAYS)),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &me.name,
        audit::CODE_ISSUED,
        Some(request_id),
        Some(means),
    )
    .await?;
    add_event(&txn, request_id, event::APPROVED, None, now).await?;
    shred_documents(&txn, request_id, None, &me.name, now).await?;
    txn.commit().await?;
    drop(code);
    process_outbox(services).await?;
    Ok(ApproveOutcome::Approved)
}

/// A reviewer's words for the requester: trimmed, required, at most 1,000 characters.
fn text_for_requester(text: &str, when_missing: &str) -> Result<String, ReviewError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReviewError::Invalid(when_missing.to_owned()));
    }
    Ok(text.chars().take(1000).collect())
}

pub async fn reject(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let reason = text_for_requester(reason, "Please give the requester a reason.")?;
    let found = held_request(&services.db, request_id, me, now).await?;
    let txn = services.db.begin().await?;
    transition(&txn, &found, me, RequestState::Rejected, now).await?;
    record_decision(
        &txn,
        request_id,
        me,
        RequestState::Rejected,
        Some(reason.clone()),
        now,
    )
    .await?;
    add_event(&txn, request_id, event::REJECTED, Some(reason), now).await?;
    shred_documents(&txn, request_id, None, &me.name, now).await?;
    txn.commit().await?;
    process_outbox(services).await?;
    Ok(())
}

/// Asks the requester for a new document of `kind`; they see `note` on their tracking page.
pub async fn request_document(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    kind: DocumentKind,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let note = text_for_requester(
        note,
        "Please tell the requester what is wrong with the document.",
    )?;
    let found = held_request(&services.db, request_id, me, now).await?;
    let txn = services.db.begin().await?;
    transition(&txn, &found, me, RequestState::NeedsDocument, now).await?;
    request::Entity::update_many()
        .col_expr(
            request::Column::RequestedDocument,
            Expr::value(kind.as_str()),
        )
        .col_expr(request::Column::RequestedNote, Expr::value(note.clone()))
        .filter(request::Column::Id.eq(request_id))
        .exec(&txn)
        .await?;
    add_event(
        &txn,
        request_id,
        event::DOCUMENT_REQUESTED,
        Some(format!("{}: {note}", kind.label())),
        now,
    )
    .await?;
    let detail = format!("{}: {note}", kind.as_str());
    audit::record(
        &txn,
        &me.name,
        audit::DOCUMENT_REQUESTED,
        Some(request_id),
        Some(&detail),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_accents_case_or_spacing() {
        assert!(names_match("Jörg Müller", "JORG  muller"));
        assert!(names_match("Élodie Dubois", "elodie dubois"));
        assert!(!names_match("Jörg Müller", "Jörg Meier"));
        assert!(!names_match("", ""));
    }

    #[test]
    fn unreadable_signals_count_as_fired() {
        assert_eq!(parse_signals("not json").fired(), 1);
        let clean = Signals {
            camera: Some("FP5".into()),
            ..Signals::default()
        };
        assert_eq!(
            parse_signals(&serde_json::to_string(&clean).unwrap()).fired(),
            0
        );
    }

    #[test]
    fn short_ids_are_eight_hex_digits() {
        let id = Uuid::new_v4();
        assert_eq!(short_id(id).len(), 8);
        assert!(id.simple().to_string().starts_with(&short_id(id)));
    }
}
