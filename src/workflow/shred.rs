//! Crypto-shredding and the deletion outbox.
//!
//! A document is unreadable the moment its wrapped key is deleted, which happens in the
//! same transaction as the decision. Its ciphertext file is unlinked after commit through
//! the outbox; the sweeper (`sweep`) retries what a crash interrupted and removes any file
//! in the store that no live document refers to.

use chrono::{DateTime, Utc};
use entities::{deletion, document};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::rules;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::db::SetNull;
use crate::workflow::services::Services;

/// Deletes the wrapped keys of a request's live documents (or of one of them) and queues
/// their files for unlinking. Call inside the transaction that records the decision.
pub(crate) async fn shred_documents(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    only: Option<Uuid>,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let mut query = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(rules::live_documents());
    if let Some(id) = only {
        query = query.filter(document::Column::Id.eq(id));
    }
    let live = query.all(txn).await?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = live.iter().map(|d| d.id).collect();
    document::Entity::update_many()
        .set_null([document::Column::WrappedKey, document::Column::SealedZone])
        .col_expr(document::Column::ShreddedAt, Expr::value(now))
        .filter(document::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    let names: Vec<String> = live.into_iter().map(|d| d.storage_name).collect();
    deletion::Entity::insert_many(names.iter().map(|name| deletion::ActiveModel {
        storage_name: Set(name.clone()),
        created_at: Set(now),
        attempts: Set(0),
        ..Default::default()
    }))
    .exec_without_returning(txn)
    .await?;
    let detail = format!("{} document key(s) destroyed", names.len());
    audit::record(txn, actor, Action::Shred, Some(request_id), Some(&detail)).await?;
    Ok(names)
}

/// After a decision committed: unlinks the queued files now. A failure here changes nothing
/// of what was decided, so it is logged and left to the sweeper, never reported as failure.
pub async fn unlink_after_commit(services: &Services) {
    if let Err(error) = process_outbox(services).await {
        tracing::warn!(%error, "cannot process the deletion outbox now; the sweeper will retry");
    }
}

/// Unlinks the queued files; what fails stays queued for the next sweep.
pub async fn process_outbox(services: &Services) -> Result<usize, DbErr> {
    let queued = deletion::Entity::find().all(&services.db).await?;
    let mut removed = 0;
    for row in queued {
        match services.store.remove(&row.storage_name).await {
            Ok(()) => {
                // Counted by whoever deletes the row: another instance may be at it too.
                let deleted = deletion::Entity::delete_by_id(row.id)
                    .exec(&services.db)
                    .await?
                    .rows_affected;
                removed += usize::try_from(deleted).unwrap_or(0);
            }
            Err(error) => {
                tracing::warn!(%error, "cannot unlink a shredded document; will retry");
                let attempts = row.attempts + 1;
                let mut active: deletion::ActiveModel = row.into();
                active.attempts = Set(attempts);
                active.update(&services.db).await?;
            }
        }
    }
    Ok(removed)
}

/// The kinds of a request's documents, for the evidence record.
pub(crate) async fn document_kinds(
    db: &impl ConnectionTrait,
    request_id: Uuid,
) -> Result<String, DbErr> {
    let mut kinds: Vec<String> = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| sea_orm::ActiveEnum::to_value(&d.kind))
        .collect();
    kinds.sort();
    kinds.dedup();
    Ok(kinds.join(","))
}
