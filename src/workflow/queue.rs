//! The reviewers' queue and its exclusive, expiring claims (leases).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entities::{approval, document, request, reviewer, transfer_code};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};
use uuid::Uuid;

use crate::workflow::ids::RequestId;

use super::rules;
use super::state::{self, is_pending};
use super::{short_id, RequestKind, RequestState, ReviewError};
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::config::Settings;
use crate::workflow::documents::parse_signals;
use crate::workflow::rules::retention_cutoff;

pub const CLAIM_LEASE: Duration = Duration::minutes(15);
pub const ISSUANCE_DEADLINE: Duration = Duration::hours(120);
/// Rows on one page of the queue; the summary above it counts them all.
pub const QUEUE_PAGE: u64 = 100;

#[derive(Debug, Default)]
pub struct QueueFilter {
    pub state: Option<RequestState>,
    pub domain: Option<String>,
    pub mine: bool,
    /// Only the requests whose hand-off the registry refused.
    pub registry_refused: bool,
    /// Which page, from 0.
    pub page: u64,
}

/// One page of the queue, and whether another follows.
#[derive(Debug, Default)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub has_next: bool,
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
    /// Another pending request or a live transfer code exists for the same domain.
    pub domain_contested: bool,
    pub kind: RequestKind,
    /// A message from the requester waits for an answer.
    pub awaiting_reply: bool,
    /// The registrant on file objected to the issued code; no reviewer has dealt with it.
    pub objected: bool,
    /// The registry refused the request's hand-off for good; no reviewer has dealt with it.
    pub registry_refused: bool,
}

/// The line at the top of the queue: how much is waiting and how late it is.
#[derive(Debug, Default, serde::Serialize)]
pub struct QueueSummary {
    pub waiting: u64,
    pub oldest_age_hours: Option<i64>,
    pub overdue: u64,
}

pub async fn summary(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<QueueSummary, DbErr> {
    let waiting = request::Entity::find()
        .filter(state::pending())
        .count(db)
        .await?;
    let oldest: Option<DateTime<Utc>> = request::Entity::find()
        .select_only()
        .column(request::Column::CreatedAt)
        .filter(state::pending())
        .order_by_asc(request::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?;
    let overdue = request::Entity::find()
        .filter(state::pending())
        .filter(request::Column::CreatedAt.lt(now - ISSUANCE_DEADLINE))
        .count(db)
        .await?;
    Ok(QueueSummary {
        waiting,
        oldest_age_hours: oldest.map(|at| (now - at).num_hours()),
        overdue,
    })
}

pub fn lease_is_live(found: &request::Model, now: DateTime<Utc>) -> bool {
    found.claimed_by.is_some() && found.claim_expires_at.is_some_and(|until| until > now)
}

/// Requests oldest first (objections to an issued code before all: a hijack may be under
/// way; then the requests the registry refused: the approval did not happen), with their age,
/// time left to the deadline, signals and holder.
pub async fn queue(
    db: &impl ConnectionTrait,
    filter: &QueueFilter,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<QueuePage, DbErr> {
    let offset = filter.page.saturating_mul(QUEUE_PAGE);
    // Enough rows to fill this page and to know whether another follows.
    let needed = offset.saturating_add(QUEUE_PAGE + 1);
    let mut requests = matching(db, filter, me, now, needed).await?;
    // Objections to an issued code come first: a hijack may be under way.
    let objected = |r: &request::Model| r.objected_at.is_some() && r.objection_handled_at.is_none();
    let refused = |r: &request::Model| r.registry_refused_at.is_some();
    requests.sort_by_key(|r| (!objected(r), !refused(r), r.created_at));
    let mut requests: Vec<request::Model> = requests
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .collect();
    let has_next = requests.len() as u64 > QUEUE_PAGE;
    requests.truncate(QUEUE_PAGE as usize);
    let ids: Vec<Uuid> = requests.iter().map(|r| r.id).collect();
    let signals = fired_signals(db, ids).await?;
    let domains: HashSet<String> = requests.iter().map(|r| r.domain.clone()).collect();
    let contested = contested_domains(db, domains, now).await?;
    let holders = reviewer_names(db, requests.iter().filter_map(|r| r.claimed_by)).await?;
    let items: Vec<QueueItem> = requests
        .into_iter()
        .map(|r| {
            let live = lease_is_live(&r, now);
            let deadline = r.created_at + ISSUANCE_DEADLINE;
            QueueItem {
                short_id: short_id(r.id),
                age_hours: (now - r.created_at).num_hours(),
                hours_left: (deadline - now).num_hours(),
                overdue: is_pending(r.state) && deadline < now,
                signal_count: signals.get(&r.id).copied().unwrap_or(0),
                holder: r
                    .claimed_by
                    .filter(|_| live)
                    .and_then(|id| holders.get(&id).cloned()),
                held_by_me: live && r.claimed_by == Some(me.id),
                domain_contested: contested.get(r.domain.as_str()).copied().unwrap_or(0) > 1,
                kind: r.kind,
                awaiting_reply: r.awaiting_reply_since.is_some(),
                objected: r.objected_at.is_some() && r.objection_handled_at.is_none(),
                registry_refused: r.registry_refused_at.is_some(),
                id: r.id,
                domain: r.domain,
                state: r.state,
                created_at: r.created_at,
            }
        })
        .collect();
    Ok(QueuePage { items, has_next })
}

/// The requests `filter` asks for, oldest first, at most `needed` of each kind.
async fn matching(
    db: &impl ConnectionTrait,
    filter: &QueueFilter,
    me: &reviewer::Model,
    now: DateTime<Utc>,
    needed: u64,
) -> Result<Vec<request::Model>, DbErr> {
    let open_objection = Condition::all()
        .add(request::Column::ObjectedAt.is_not_null())
        .add(request::Column::ObjectionHandledAt.is_null());
    let oldest_first = |condition: Condition| {
        let mut query = request::Entity::find().filter(condition);
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
        if filter.registry_refused {
            query = query.filter(request::Column::RegistryRefusedAt.is_not_null());
        }
        query.order_by_asc(request::Column::CreatedAt).limit(needed)
    };
    Ok(match filter.state {
        Some(state) => {
            oldest_first(Condition::all().add(request::Column::State.eq(state)))
                .all(db)
                .await?
        }
        // Pending requests, and decided ones whose requester wrote and waits for an answer,
        // whose code the registrant on file objected to, or whose hand-off the registry
        // refused. Each asked for on its own, so that each reads its own index: as one OR,
        // the database reads every request.
        None => {
            let mut all = oldest_first(state::pending()).all(db).await?;
            let mut seen: HashSet<Uuid> = all.iter().map(|r| r.id).collect();
            let waiting = Condition::all().add(request::Column::AwaitingReplySince.is_not_null());
            let refused = Condition::all().add(request::Column::RegistryRefusedAt.is_not_null());
            for condition in [waiting, open_objection, refused] {
                for found in oldest_first(condition).all(db).await? {
                    if seen.insert(found.id) {
                        all.push(found);
                    }
                }
            }
            all
        }
    })
}

/// The signals fired on the live documents of the requests `ids`, counted by request.
async fn fired_signals(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, usize>, DbErr> {
    // The e-ID's name mismatches count as the documents' signals do.
    let mut signals = super::eid::signal_counts(db, ids.clone()).await?;
    for (request_id, json) in document::Entity::find()
        .select_only()
        .column(document::Column::RequestId)
        .column(document::Column::Signals)
        .filter(document::Column::RequestId.is_in(ids))
        .filter(rules::live_documents())
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
    {
        *signals.entry(request_id).or_default() += parse_signals(&json).fired();
    }
    Ok(signals)
}

/// For each of `domains`: how many pending requests plus live transfer codes it has.
async fn contested_domains(
    db: &impl ConnectionTrait,
    domains: HashSet<String>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, usize>, DbErr> {
    let wanted: Vec<String> = domains.into_iter().collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let pending: Vec<String> = request::Entity::find()
        .select_only()
        .column(request::Column::Domain)
        .filter(request::Column::Domain.is_in(wanted.clone()))
        .filter(state::pending())
        .into_tuple()
        .all(db)
        .await?;
    let codes: Vec<String> = transfer_code::Entity::find()
        .select_only()
        .column(transfer_code::Column::Domain)
        .filter(transfer_code::Column::Domain.is_in(wanted))
        .filter(rules::live_codes(now))
        .into_tuple()
        .all(db)
        .await?;
    for domain in pending.into_iter().chain(codes) {
        *counts.entry(domain).or_default() += 1;
    }
    Ok(counts)
}

/// The names of the reviewers with these ids.
pub(crate) async fn reviewer_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(reviewer::Entity::find()
        .select_only()
        .column(reviewer::Column::Id)
        .column(reviewer::Column::Name)
        .filter(reviewer::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Takes (or renews) the exclusive review lease. One conditional update, so two reviewers
/// claiming at once cannot both win. A request past its retention cannot be claimed.
pub async fn claim(
    db: &impl ConnectionTrait,
    settings: &Settings,
    request_id: RequestId,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let request_id = request_id.0;
    let taken = request::Entity::update_many()
        .col_expr(request::Column::ClaimedBy, Expr::value(me.id))
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(now + CLAIM_LEASE),
        )
        .filter(request::Column::Id.eq(request_id))
        .filter(state::claimable())
        .filter(rules::within_retention(settings, now))
        .filter(
            Condition::any()
                .add(request::Column::ClaimedBy.is_null())
                .add(request::Column::ClaimExpiresAt.lte(now))
                .add(request::Column::ClaimedBy.eq(me.id)),
        )
        .exec(db)
        .await?;
    if taken.rows_affected == 1 {
        audit::record(
            db,
            Actor::Reviewer(&me.name),
            Action::Claim,
            Some(request_id),
            None,
        )
        .await?;
        return Ok(());
    }
    let found = request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if !state::CLAIMABLE.contains(&found.state)
        || found.created_at <= retention_cutoff(settings, now)
    {
        return Err(ReviewError::AlreadyDecided);
    }
    let holder = match found.claimed_by {
        Some(id) => reviewer_names(db, [id]).await?.remove(&id),
        None => None,
    };
    Err(ReviewError::ClaimedByOther {
        holder: holder.unwrap_or_else(|| "another reviewer".into()),
    })
}

/// Requests `me` has already approved (a second approval must come from someone else).
async fn approved_by(db: &impl ConnectionTrait, me: &reviewer::Model) -> Result<Vec<Uuid>, DbErr> {
    approval::Entity::find()
        .select_only()
        .column(approval::Column::RequestId)
        .filter(approval::Column::ReviewerId.eq(me.id))
        .into_tuple()
        .all(db)
        .await
}

/// Claims the oldest unclaimed request waiting for review.
pub async fn claim_next(
    db: &impl ConnectionTrait,
    settings: &Settings,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ReviewError> {
    let candidates: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::State.eq(RequestState::Submitted))
        .filter(rules::within_retention(settings, now))
        .filter(
            Condition::any()
                .add(request::Column::ClaimedBy.is_null())
                .add(request::Column::ClaimExpiresAt.lte(now)),
        )
        .filter(request::Column::Id.is_not_in(approved_by(db, me).await?))
        .order_by_asc(request::Column::CreatedAt)
        .limit(10)
        .into_tuple()
        .all(db)
        .await?;
    for candidate in candidates {
        match claim(db, settings, RequestId(candidate), me, now).await {
            Ok(()) => return Ok(Some(candidate)),
            Err(ReviewError::ClaimedByOther { .. } | ReviewError::AlreadyDecided) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// Gives a claim back; an admin may release anyone's.
pub async fn release(
    db: &impl ConnectionTrait,
    request_id: RequestId,
    me: &reviewer::Model,
) -> Result<(), ReviewError> {
    let request_id = request_id.0;
    let mut update = state::without_claim(request::Entity::update_many())
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::ClaimedBy.is_not_null());
    if !me.is_admin {
        update = update.filter(request::Column::ClaimedBy.eq(me.id));
    }
    let released = update.exec(db).await?;
    if released.rows_affected == 1 {
        audit::record(
            db,
            Actor::Reviewer(&me.name),
            Action::Release,
            Some(request_id),
            None,
        )
        .await?;
        Ok(())
    } else {
        Err(ReviewError::NotClaimHolder)
    }
}

/// Renews the lease of the reviewer who holds it (looking at documents is activity).
pub async fn renew(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    request::Entity::update_many()
        .col_expr(
            request::Column::ClaimExpiresAt,
            Expr::value(now + CLAIM_LEASE),
        )
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::ClaimedBy.eq(me.id))
        .filter(request::Column::ClaimExpiresAt.gt(now))
        .exec(db)
        .await
        .map(|_| ())
}

/// A reviewer has dealt with what marked a request in the queue (an objection, a registry's
/// refusal): `unmark`, already filtered to the request and guarded so that it changes
/// something only while the mark is there, and its audit line, in one transaction. `false`,
/// and nothing recorded, when there was no mark.
pub(crate) async fn unmark(
    db: &DatabaseConnection,
    unmark: UpdateMany<request::Entity>,
    request_id: Uuid,
    me: &reviewer::Model,
    action: Action,
) -> Result<bool, DbErr> {
    let txn = crate::platform::db::begin_writing(db).await?;
    let done = unmark.exec(&txn).await?.rows_affected == 1;
    if done {
        let actor = Actor::Reviewer(&me.name);
        audit::record(&txn, actor, action, Some(request_id), None).await?;
    }
    txn.commit().await?;
    Ok(done)
}
