//! "This was not me": the registrant on file, told by mail of an approved transfer code,
//! cancels it with one click. The code is erased at once, the registry is told to cancel it
//! (when a command is configured), and the request goes to the top of the reviewers' queue
//! until a reviewer has dealt with it.

use chrono::{DateTime, Utc};
use entities::{request, reviewer, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::state::{event, record_event};
use super::RequestState;
use crate::audit;
use crate::crypto::TrackingToken;
use crate::registry::{self, Action};
use crate::services::Services;

/// What the objection page shows the registrant.
#[derive(Debug, serde::Serialize)]
pub struct ObjectionView {
    pub domain: String,
    pub requester_name: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub objected_at: Option<DateTime<Utc>>,
}

async fn find_by_token(
    services: &Services,
    token: &TrackingToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(request::Column::ObjectionTokenHash.eq(token.hash().to_vec()))
        .filter(request::Column::State.eq(RequestState::Approved))
        .one(&services.db)
        .await
}

pub async fn find(
    services: &Services,
    token: &TrackingToken,
) -> Result<Option<ObjectionView>, DbErr> {
    Ok(find_by_token(services, token)
        .await?
        .map(|found| ObjectionView {
            domain: found.domain,
            requester_name: found.requester_name,
            approved_at: found.decided_at,
            objected_at: found.objected_at,
        }))
}

/// Cancels the code of the request `token` opens. Returns `false` for an unknown token; a
/// second objection changes nothing.
pub async fn object(
    services: &Services,
    token: &TrackingToken,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(found) = find_by_token(services, token).await? else {
        return Ok(false);
    };
    let txn = services.db.begin().await?;
    let flagged = request::Entity::update_many()
        .col_expr(request::Column::ObjectedAt, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(found.id))
        .filter(request::Column::ObjectedAt.is_null())
        .exec(&txn)
        .await?;
    if flagged.rows_affected != 1 {
        return Ok(true);
    }
    transfer_code::Entity::update_many()
        .col_expr(
            transfer_code::Column::SealedCode,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(transfer_code::Column::ExpiresAt, Expr::value(now))
        .filter(transfer_code::Column::RequestId.eq(found.id))
        .exec(&txn)
        .await?;
    record_event(&txn, found.id, event::OBJECTED, None, now).await?;
    audit::record(
        &txn,
        "registrant",
        audit::OBJECTION,
        Some(found.id),
        Some("the registrant on file objected; the code was erased"),
    )
    .await?;
    txn.commit().await?;
    tracing::warn!(request = %found.id, "the registrant on file objected to an issued code");
    if let Some(command) = &services.settings.registry_command {
        let (action, detail) =
            match registry::hand_off(command, &found.domain, &Action::CancelTransferCode).await {
                Ok(()) => (
                    audit::CODE_CANCELLED,
                    "the registry command cancelled the code".into(),
                ),
                Err(error) => (audit::CODE_CANCEL_FAILED, error),
            };
        audit::record(
            &services.db,
            "system",
            action,
            Some(found.id),
            Some(&detail),
        )
        .await?;
    }
    Ok(true)
}

/// A reviewer has dealt with an objection: the request leaves the top of the queue.
pub async fn mark_handled(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = services.db.begin().await?;
    let done = request::Entity::update_many()
        .col_expr(request::Column::ObjectionHandledAt, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::ObjectedAt.is_not_null())
        .filter(request::Column::ObjectionHandledAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 {
        audit::record(
            &txn,
            &me.name,
            audit::OBJECTION_HANDLED,
            Some(request_id),
            None,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(done.rows_affected == 1)
}
