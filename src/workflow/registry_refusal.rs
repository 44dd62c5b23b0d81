//! The registry's permanent refusals, kept on the request for the reviewers. A refusal on the
//! merits (EPP's 2201, 2303, 2304…), which another try would not change, marks the request in
//! the queue with the registry's own message, in the transaction that writes the refusal to
//! the audit trail. The mark goes when a later hand-off for the request succeeds, when the
//! request is decided, or when a reviewer says they have dealt with it.
//!
//! The registry's message is for staff: the requester learns only that the registry step
//! failed and that staff were told (`tracking`).

use chrono::{DateTime, Utc};
use entities::{request, reviewer};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, UpdateMany};

use crate::evidence::audit::Action;
use crate::platform::db::SetNull;
use crate::registry::RegistryError;
use crate::workflow::ids::RequestId;
use crate::workflow::services::Services;

/// The longest registry message kept (the EPP answer's is cut at 300 already).
const MAX_MESSAGE_CHARS: usize = 1000;

/// Marks the request when `error` is a permanent refusal; `false` (and nothing written) when
/// a later try may succeed.
pub(crate) async fn flag_if_permanent(
    txn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
    error: &RegistryError,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    if !error.is_permanent() {
        return Ok(false);
    }
    let message: String = error.to_string().chars().take(MAX_MESSAGE_CHARS).collect();
    request::Entity::update_many()
        .col_expr(request::Column::RegistryRefusal, Expr::value(Some(message)))
        .col_expr(request::Column::RegistryRefusedAt, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(request_id))
        .exec(txn)
        .await?;
    Ok(true)
}

/// `update` clears the mark too.
pub(crate) fn cleared(update: UpdateMany<request::Entity>) -> UpdateMany<request::Entity> {
    update.set_null([
        request::Column::RegistryRefusal,
        request::Column::RegistryRefusedAt,
    ])
}

/// Clears the mark of `request_id` (a hand-off for it succeeded, or it was decided).
pub(crate) async fn clear(db: &impl ConnectionTrait, request_id: uuid::Uuid) -> Result<(), DbErr> {
    cleared(request::Entity::update_many())
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::RegistryRefusedAt.is_not_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// A reviewer has dealt with the refusal (at the registry by hand, with the requester…): the
/// request loses its mark. `false` when it had none.
pub async fn mark_handled(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
) -> Result<bool, DbErr> {
    let handled = cleared(request::Entity::update_many())
        .filter(request::Column::Id.eq(request_id.0))
        .filter(request::Column::RegistryRefusedAt.is_not_null());
    let action = Action::RegistryRefusalHandled;
    super::queue::unmark(&services.db, handled, request_id.0, me, action).await
}
