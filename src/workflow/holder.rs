//! The holder who verifies directly: from their own private link they see who asked for
//! what, and confirm with their own identity document or refuse. The requester never sees
//! the holder's document.

use chrono::{DateTime, Utc};
use entities::{decision, document, request};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::close::{close, Closing, Decider};
use super::documents::{sanitize_identity_photos, write_then, IdentityOf, IdentityPhotos};
use super::shred::unlink_after_commit;
use super::state::{self, Guard, HolderLink, Step};
use super::{IdDocumentType, Reason, RequestKind, RequestState};
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::HolderToken;
use crate::workflow::input::{Field, FieldProblem, SubmitError, Upload};
use crate::workflow::rules::retention_cutoff;
use crate::workflow::services::Services;

/// How the holder appears in decisions and the audit trail.
const HOLDER: &str = "holder";

/// Longest reason a holder gives for refusing.
pub const MAX_REFUSAL_CHARS: usize = 2000;

/// What the holder's page shows.
#[derive(Debug, serde::Serialize)]
pub struct HolderView {
    #[serde(skip)]
    pub request_id: uuid::Uuid,
    pub domain: String,
    pub kind: RequestKind,
    pub nameservers: Vec<String>,
    /// The requester's name as they typed it.
    pub requester_name: String,
    pub holder_name: String,
    pub asked_at: DateTime<Utc>,
    pub link_expires_at: DateTime<Utc>,
    /// The holder may still answer.
    pub open: bool,
    pub answered_at: Option<DateTime<Utc>>,
    /// The holder's answer was a refusal.
    pub refused: bool,
    pub state: RequestState,
}

/// The request that the holder's `token` opens; every miss is the same `None`.
pub async fn find_for_holder(
    services: &Services,
    token: &HolderToken,
) -> Result<Option<HolderView>, DbErr> {
    let Some(found) = super::rules::request_of_holder_link(&services.db, token).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let link_expires_at = found.holder_link_expires_at.unwrap_or(now);
    let refused = found.holder_answered_at.is_some()
        && decision::Entity::find()
            .filter(decision::Column::RequestId.eq(found.id))
            .filter(decision::Column::ReviewerName.eq(HOLDER))
            .one(&services.db)
            .await?
            .is_some();
    Ok(Some(HolderView {
        request_id: found.id,
        refused,
        open: is_open(services, &found, now),
        domain: found.domain,
        kind: found.kind,
        nameservers: found
            .nameservers
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
        requester_name: found.requester_name,
        holder_name: found.holder_name.unwrap_or_default(),
        asked_at: found.created_at,
        link_expires_at,
        answered_at: found.holder_answered_at,
        state: found.state,
    }))
}

fn is_open(services: &Services, found: &request::Model, now: DateTime<Utc>) -> bool {
    found.state == RequestState::AwaitingHolder
        && found.holder_link_expires_at.is_some_and(|end| end > now)
        && found.created_at > retention_cutoff(&services.settings, now)
}

fn guard(services: &Services, now: DateTime<Utc>) -> Guard {
    Guard {
        created_after: Some(retention_cutoff(&services.settings, now)),
        holder_link: Some(HolderLink::Live),
        ..Guard::system(now)
    }
}

/// The holder confirms with their own identity document (front required, back optional),
/// which goes through the same intake as the requester's. The request then waits for review.
pub async fn confirm(
    services: &Services,
    token: &HolderToken,
    said_type: &str,
    front: Option<Upload>,
    back: Option<Upload>,
    client_addr: &str,
) -> Result<(), SubmitError> {
    let found = super::rules::request_of_holder_link(&services.db, token)
        .await?
        .ok_or(SubmitError::NotFound)?;
    if !is_open(services, &found, Utc::now()) {
        return Err(SubmitError::in_field(
            Field::HolderIdFront,
            FieldProblem::NothingAsked,
        ));
    }
    let now = Utc::now();
    let photos = IdentityPhotos {
        said_type,
        front,
        back,
    };
    let (said_type, clean) =
        sanitize_identity_photos(services, IdentityOf::Holder, photos, client_addr, now).await?;
    write_then(services, found.id, &clean, now, async |documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        let step = Step::HolderConfirms;
        if !state::apply(&txn, found.id, step, &guard(services, now), None).await? {
            return Err(SubmitError::in_field(
                Field::HolderIdFront,
                FieldProblem::NothingAsked,
            ));
        }
        mark_answered(&txn, found.id, now, said_type).await?;
        document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        audit::record(
            &txn,
            Actor::Holder,
            Action::HolderConfirmed,
            Some(found.id),
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })
    .await?;
    tracing::info!(request = %found.id, "the holder confirmed");
    Ok(())
}

/// The holder refuses: the request is rejected with their reason, and the requester's
/// documents are destroyed.
pub async fn refuse(
    services: &Services,
    token: &HolderToken,
    reason: &str,
) -> Result<(), SubmitError> {
    let found = super::rules::request_of_holder_link(&services.db, token)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let now = Utc::now();
    if !is_open(services, &found, now) {
        return Err(SubmitError::in_field(
            Field::Reason,
            FieldProblem::NothingAsked,
        ));
    }
    let words: String = reason.trim().chars().take(MAX_REFUSAL_CHARS).collect();
    let reason = Reason {
        key: Some(super::reason::HOLDER_REFUSED.to_owned()),
        text: (!words.is_empty()).then_some(words),
    };
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    if !state::apply(
        &txn,
        found.id,
        Step::HolderRefuses,
        &guard(services, now),
        None,
    )
    .await?
    {
        return Err(SubmitError::in_field(
            Field::Reason,
            FieldProblem::NothingAsked,
        ));
    }
    mark_answered(&txn, found.id, now, None).await?;
    let detail = reason.in_lang(crate::platform::i18n::Lang::En);
    let closing = Closing {
        found: &found,
        outcome: RequestState::Rejected,
        decider: Decider::Holder,
        reason,
        audit: (Action::HolderRefused, Some(detail)),
        now,
    };
    close(services, &txn, closing).await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    unlink_after_commit(services).await;
    tracing::info!(request = %found.id, "the holder refused");
    Ok(())
}

/// The holder answered, at `now`, saying their document is `said_type` when they confirmed.
async fn mark_answered(
    txn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
    now: DateTime<Utc>,
    said_type: Option<IdDocumentType>,
) -> Result<(), DbErr> {
    request::Entity::update_many()
        .col_expr(request::Column::HolderAnsweredAt, Expr::value(Some(now)))
        .col_expr(
            request::Column::HolderIdDocumentType,
            Expr::value(said_type),
        )
        .filter(request::Column::Id.eq(request_id))
        .exec(txn)
        .await
        .map(|_| ())
}
