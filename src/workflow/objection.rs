//! "This was not me": the registrant on file, told by mail of an approved transfer code or
//! nameserver change, undoes it with one click. A code is erased at once and the registry
//! told to cancel it; a nameserver change that is still waiting for its objection window is
//! never handed over, and the registry is sent the previous nameservers in any case. The
//! request goes to the top of the reviewers' queue until a reviewer has dealt with it.
//!
//! An admin can do the same from the review page (whatever the mail setup), and the sweeper
//! hands over nameserver changes whose window has passed without an objection.

use chrono::{DateTime, Duration, Utc};
use entities::{request, reviewer, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::platform::db::SetNull;
use crate::workflow::ids::RequestId;

use super::state::{record_event, Event};
use super::{RequestKind, RequestState};
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::ObjectionToken;
use crate::registry::{self, HandOff, Registry};
use crate::workflow::registry_refusal;
use crate::workflow::services::Services;

/// What the objection page shows the registrant.
#[derive(Debug, serde::Serialize)]
pub struct ObjectionView {
    pub domain: String,
    pub kind: RequestKind,
    pub nameservers: Vec<String>,
    pub requester_name: String,
    pub approved_at: Option<DateTime<Utc>>,
    /// For a nameserver change still in its objection window: when it would be made.
    pub takes_effect_at: Option<DateTime<Utc>>,
    pub objected_at: Option<DateTime<Utc>>,
}

async fn find_by_token(
    services: &Services,
    token: &ObjectionToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(request::Column::ObjectionTokenHash.eq(token.hash().to_vec()))
        .filter(request::Column::State.eq(RequestState::Approved))
        .one(&services.db)
        .await
}

fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub async fn find(
    services: &Services,
    token: &ObjectionToken,
) -> Result<Option<ObjectionView>, DbErr> {
    Ok(find_by_token(services, token)
        .await?
        .map(|found| ObjectionView {
            domain: found.domain,
            kind: found.kind,
            nameservers: lines(found.nameservers.as_deref()),
            requester_name: crate::mail::quoted(&found.requester_name),
            approved_at: found.decided_at,
            takes_effect_at: found.hand_off_due_at,
            objected_at: found.objected_at,
        }))
}

/// Who undoes an approval.
enum Undoer<'a> {
    /// The registrant on file, from the link in their notice.
    Registrant,
    /// An admin, from the review page.
    Admin(&'a reviewer::Model),
}

impl Undoer<'_> {
    fn actor(&self) -> Actor<'_> {
        match self {
            Undoer::Registrant => Actor::Registrant,
            Undoer::Admin(me) => Actor::Reviewer(&me.name),
        }
    }

    fn name(&self) -> &str {
        match self {
            Undoer::Registrant => "registrant",
            Undoer::Admin(me) => &me.name,
        }
    }
}

/// Undoes the approval of the request `token` opens. Returns `false` for an unknown token; a
/// second objection changes nothing.
pub async fn object(
    services: &Services,
    token: &ObjectionToken,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(found) = find_by_token(services, token).await? else {
        return Ok(false);
    };
    undo(services, &found, Undoer::Registrant, now).await?;
    Ok(true)
}

/// An admin cancels an approved request's code, or restores the nameservers of an approved
/// change. `Ok(false)` when the request is not approved or was undone already.
pub async fn withdraw_by_admin(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let request_id = request_id.0;
    let found = request::Entity::find_by_id(request_id)
        .filter(request::Column::State.eq(RequestState::Approved))
        .one(&services.db)
        .await?;
    match found {
        Some(found) if me.is_admin => undo(services, &found, Undoer::Admin(me), now).await,
        _ => Ok(false),
    }
}

/// Flags the request, erases its code or stops its waiting nameserver change, and tells the
/// registry. `Ok(false)` when it was undone already.
async fn undo(
    services: &Services,
    found: &request::Model,
    by: Undoer<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let mut flag = request::Entity::update_many()
        .col_expr(request::Column::ObjectedAt, Expr::value(Some(now)))
        // A waiting nameserver change is never handed over.
        .set_null([request::Column::HandOffDueAt]);
    if let Undoer::Admin(_) = by {
        // An admin's own action needs no one else to deal with it.
        flag = flag.col_expr(request::Column::ObjectionHandledAt, Expr::value(Some(now)));
    }
    let flagged = flag
        .filter(request::Column::Id.eq(found.id))
        .filter(request::Column::ObjectedAt.is_null())
        .exec(&txn)
        .await?;
    if flagged.rows_affected != 1 {
        return Ok(false);
    }
    transfer_code::Entity::update_many()
        .set_null([transfer_code::Column::SealedCode])
        .col_expr(transfer_code::Column::ExpiresAt, Expr::value(now))
        .filter(transfer_code::Column::RequestId.eq(found.id))
        .exec(&txn)
        .await?;
    record_event(&txn, found.id, Event::Objected, None, now).await?;
    let (action, detail) = match (&by, found.kind) {
        (Undoer::Registrant, RequestKind::TransferCode) => (
            Action::Objection,
            "the registrant on file objected; the code was erased",
        ),
        (Undoer::Registrant, RequestKind::Nameservers) => (
            Action::Objection,
            "the registrant on file objected to the nameserver change",
        ),
        (Undoer::Admin(_), RequestKind::TransferCode) => {
            (Action::ApprovalWithdrawn, "an admin cancelled the code")
        }
        (Undoer::Admin(_), RequestKind::Nameservers) => (
            Action::ApprovalWithdrawn,
            "an admin restored the previous nameservers",
        ),
    };
    audit::record(&txn, by.actor(), action, Some(found.id), Some(detail)).await?;
    txn.commit().await?;
    tracing::warn!(request = %found.id, by = by.name(), "an approval was undone");
    tell_registry(services, found, now).await?;
    Ok(true)
}

/// Cancels the code at the registry, or sets the nameservers back, when a way to the
/// registry is configured; the audit trail says what happened, and a permanent refusal marks
/// the request for the reviewers (a code that still works is a hijack under way).
async fn tell_registry(
    services: &Services,
    found: &request::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(registry) = Registry::configured(&services.settings) else {
        return Ok(());
    };
    let outcome = match found.kind {
        RequestKind::TransferCode => {
            let order = HandOff {
                request: found.id,
                domain: &found.domain,
                action: registry::Action::CancelTransferCode,
            };
            match registry.hand_off(&services.db, &order).await {
                Ok(done) if done.unset_with_unknown_code => Ok((
                    Action::CodeCancelled,
                    format!("the registry refused to unset the code: it was replaced by one nobody knows{}", done.note()),
                )),
                Ok(done) => Ok((
                    Action::CodeCancelled,
                    format!("the registry cancelled the code{}", done.note()),
                )),
                Err(error) => Err((Action::CodeCancelFailed, error)),
            }
        }
        RequestKind::Nameservers => {
            let previous = lines(found.previous_nameservers.as_deref());
            if previous.is_empty() {
                Ok((
                    Action::NameserversRestoreFailed,
                    "the previous nameservers are not known (the portfolio has none for this domain): set them by hand".to_owned(),
                ))
            } else {
                let order = HandOff {
                    request: found.id,
                    domain: &found.domain,
                    action: registry::Action::SetNameservers(&previous),
                };
                match registry.hand_off(&services.db, &order).await {
                    Ok(done) => Ok((
                        Action::NameserversRestored,
                        format!("{}{}", previous.join(" "), done.note()),
                    )),
                    Err(error) => Err((Action::NameserversRestoreFailed, error)),
                }
            }
        }
    };
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let (action, detail) = match outcome {
        Ok((action, detail)) => {
            if action != Action::NameserversRestoreFailed {
                registry_refusal::clear(&txn, found.id).await?;
            }
            (action, detail)
        }
        Err((action, error)) => {
            registry_refusal::flag_if_permanent(&txn, found.id, &error, now).await?;
            (action, error.to_string())
        }
    };
    audit::record(&txn, Actor::System, action, Some(found.id), Some(&detail)).await?;
    txn.commit().await
}

/// While the sweeper hands a change over, other passes leave it alone this long.
const HAND_OFF_LEASE: Duration = Duration::minutes(10);

/// Hands to the registry the approved nameserver changes whose objection window has passed
/// without an objection. Each is leased first with a guarded update, so that one pass (of
/// any instance) carries it out; a failed hand-off is retried after the lease.
pub async fn hand_off_due(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let Some(registry) = Registry::configured(&services.settings) else {
        return Ok(0);
    };
    let due = request::Entity::find()
        .filter(request::Column::HandOffDueAt.lte(now))
        .filter(request::Column::State.eq(RequestState::Approved))
        .filter(request::Column::ObjectedAt.is_null())
        .filter(request::Column::NameserversSetAt.is_null())
        .all(&services.db)
        .await?;
    let mut done = 0;
    for found in due {
        let leased = request::Entity::update_many()
            .col_expr(
                request::Column::HandOffDueAt,
                Expr::value(Some(now + HAND_OFF_LEASE)),
            )
            .filter(request::Column::Id.eq(found.id))
            .filter(request::Column::HandOffDueAt.eq(found.hand_off_due_at))
            .filter(request::Column::ObjectedAt.is_null())
            .exec(&services.db)
            .await?;
        if leased.rows_affected != 1 {
            continue;
        }
        let hosts = lines(found.nameservers.as_deref());
        let order = HandOff {
            request: found.id,
            domain: &found.domain,
            action: registry::Action::SetNameservers(&hosts),
        };
        match registry.hand_off(&services.db, &order).await {
            Ok(handed) => {
                let mut set = registry_refusal::cleared(request::Entity::update_many())
                    .col_expr(request::Column::NameserversSetAt, Expr::value(Some(now)))
                    .set_null([request::Column::HandOffDueAt]);
                // What the registry held just before (EPP), to restore on an objection.
                if let Some(held) = &handed.previous_nameservers {
                    set = set.col_expr(
                        request::Column::PreviousNameservers,
                        Expr::value(Some(held.join("\n"))),
                    );
                }
                let set = set
                    .filter(request::Column::Id.eq(found.id))
                    .exec(&services.db)
                    .await?;
                audit::record(
                    &services.db,
                    Actor::System,
                    Action::NameserversSet,
                    Some(found.id),
                    Some(&format!("{}{}", hosts.join(" "), handed.note())),
                )
                .await?;
                done += set.rows_affected as usize;
                // An objection that arrived while the registry was working: undo again.
                let now_found = request::Entity::find_by_id(found.id)
                    .one(&services.db)
                    .await?;
                if now_found.is_some_and(|r| r.objected_at.is_some()) {
                    tell_registry(services, &found, now).await?;
                }
            }
            Err(error) => refused_or_later(services, found.id, &error, now).await?,
        }
    }
    Ok(done)
}

/// A hand-off that failed: tried again after the lease, unless the registry refused it on the
/// merits (EPP's 2201, 2303, 2304…), which another try would not change. Then the change is
/// no longer due, and the reviewers find the request flagged with the registry's message.
async fn refused_or_later(
    services: &Services,
    request_id: uuid::Uuid,
    error: &registry::RegistryError,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let detail = if registry_refusal::flag_if_permanent(&txn, request_id, error, now).await? {
        tracing::warn!(request = %request_id, %error, "the registry refused a nameserver change; not retried");
        request::Entity::update_many()
            .set_null([request::Column::HandOffDueAt])
            .filter(request::Column::Id.eq(request_id))
            .exec(&txn)
            .await?;
        format!("{error} (not retried: a reviewer must act)")
    } else {
        tracing::warn!(request = %request_id, %error, "a nameserver change could not be handed to the registry; retried later");
        error.to_string()
    };
    audit::record(
        &txn,
        Actor::System,
        Action::NameserversHandOffFailed,
        Some(request_id),
        Some(&detail),
    )
    .await?;
    txn.commit().await
}

/// A reviewer has dealt with an objection: the request leaves the top of the queue.
pub async fn mark_handled(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let handled = request::Entity::update_many()
        .col_expr(request::Column::ObjectionHandledAt, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(request_id.0))
        .filter(request::Column::ObjectedAt.is_not_null())
        .filter(request::Column::ObjectionHandledAt.is_null());
    let action = Action::ObjectionHandled;
    super::queue::unmark(&services.db, handled, request_id.0, me, action).await
}
