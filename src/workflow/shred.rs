//! Crypto-shredding, the deletion outbox, the sweeper and expiry.
//!
//! A document is unreadable the moment its wrapped key is deleted, which happens in the
//! same transaction as the decision. Its ciphertext file is unlinked after commit through
//! the outbox; the sweeper retries what a crash interrupted and removes any file in
//! uploads/ that no live document refers to.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entities::{decision, deletion, document, request, request_event, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::{event, RequestState};
use crate::audit;
use crate::services::Services;

/// Deletes the wrapped keys of a request's live documents (or of one of them) and queues
/// their files for unlinking. Call inside the transaction that records the decision.
pub(crate) async fn shred_documents(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    only: Option<Uuid>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let mut query = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(document::Column::WrappedKey.is_not_null());
    if let Some(id) = only {
        query = query.filter(document::Column::Id.eq(id));
    }
    let live = query.all(txn).await?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = live.iter().map(|d| d.id).collect();
    document::Entity::update_many()
        .col_expr(
            document::Column::WrappedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
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
    audit::record(txn, actor, audit::SHRED, Some(request_id), Some(&detail)).await?;
    Ok(names)
}

/// Unlinks the queued files; what fails stays queued for the next sweep.
pub async fn process_outbox(services: &Services) -> Result<usize, DbErr> {
    let queued = deletion::Entity::find().all(&services.db).await?;
    let mut removed = 0;
    for row in queued {
        match services.store.remove(&row.storage_name) {
            Ok(()) => {
                deletion::Entity::delete_by_id(row.id)
                    .exec(&services.db)
                    .await?;
                removed += 1;
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

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub unlinked_from_outbox: usize,
    pub orphans_removed: usize,
    pub requests_expired: usize,
    pub codes_erased: usize,
}

/// One pass of the background job: expiry, the outbox, then orphaned files.
pub async fn sweep(services: &Services, now: DateTime<Utc>) -> Result<SweepReport, DbErr> {
    let requests_expired = expire_stale_requests(services, now).await?;
    let codes_erased = erase_expired_codes(&services.db, now).await?;
    let unlinked_from_outbox = process_outbox(services).await?;
    let orphans_removed = remove_orphans(services, now).await?;
    Ok(SweepReport {
        unlinked_from_outbox,
        orphans_removed,
        requests_expired,
        codes_erased,
    })
}

/// Removes files in uploads/ that no live document refers to (a crash between writing and
/// committing, or between committing a shred and unlinking), once older than the grace
/// period so that a submission in progress is never touched.
async fn remove_orphans(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let live: HashSet<String> = document::Entity::find()
        .filter(document::Column::WrappedKey.is_not_null())
        .all(&services.db)
        .await?
        .into_iter()
        .map(|d| d.storage_name)
        .collect();
    let grace = services.settings.sweep_grace.to_std().unwrap_or_default();
    let cutoff = std::time::SystemTime::from(now) - grace;
    let Ok(entries) = std::fs::read_dir(services.store.dir()) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if live.contains(&name) || name == ".gitkeep" {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified <= cutoff);
        if old_enough && entry.file_type().is_ok_and(|t| t.is_file()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(error) => tracing::warn!(%error, "cannot remove an orphaned upload"),
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, "sweeper removed orphaned files from uploads");
    }
    Ok(removed)
}

/// Expires requests left undecided past the retention period, shredding them like a decision.
async fn expire_stale_requests(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let cutoff = now - chrono::Duration::days(services.settings.retention_days);
    let stale = request::Entity::find()
        .filter(request::Column::State.is_in(RequestState::PENDING.map(RequestState::as_str)))
        .filter(request::Column::CreatedAt.lt(cutoff))
        .all(&services.db)
        .await?;
    let mut expired = 0;
    for found in stale {
        let txn = services.db.begin().await?;
        let moved = request::Entity::update_many()
            .col_expr(
                request::Column::State,
                Expr::value(RequestState::Expired.as_str()),
            )
            .col_expr(request::Column::DecidedAt, Expr::value(now))
            .col_expr(request::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                request::Column::ClaimedBy,
                Expr::value(Option::<Uuid>::None),
            )
            .filter(request::Column::Id.eq(found.id))
            .filter(request::Column::State.is_in(RequestState::PENDING.map(RequestState::as_str)))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            continue;
        }
        let kinds = document_kinds(&txn, found.id).await?;
        decision::ActiveModel {
            request_id: Set(found.id),
            reviewer_id: Set(None),
            reviewer_name: Set("system".into()),
            outcome: Set(RequestState::Expired.as_str().into()),
            reason: Set(Some(format!(
                "not decided within {} days",
                services.settings.retention_days
            ))),
            document_kinds: Set(kinds),
            decided_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        add_event(&txn, found.id, event::EXPIRED, None, now).await?;
        shred_documents(&txn, found.id, None, "system", now).await?;
        audit::record(&txn, "system", audit::EXPIRED, Some(found.id), None).await?;
        txn.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

/// Erases the requester's copy of codes past their validity; the salted hash stays.
async fn erase_expired_codes(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let due = transfer_code::Entity::find()
        .filter(transfer_code::Column::ExpiresAt.lt(now))
        .filter(transfer_code::Column::SealedCode.is_not_null())
        .all(db)
        .await?;
    for code in &due {
        transfer_code::Entity::update_many()
            .col_expr(
                transfer_code::Column::SealedCode,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .filter(transfer_code::Column::RequestId.eq(code.request_id))
            .exec(db)
            .await?;
        add_event(db, code.request_id, event::CODE_ERASED, None, now).await?;
        audit::record(
            db,
            "system",
            audit::CODE_ERASED,
            Some(code.request_id),
            None,
        )
        .await?;
    }
    Ok(due.len())
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
        .map(|d| d.kind)
        .collect();
    kinds.sort();
    kinds.dedup();
    Ok(kinds.join(","))
}

pub(crate) async fn add_event(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    kind: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    request_event::ActiveModel {
        request_id: Set(request_id),
        at: Set(now),
        kind: Set(kind.to_owned()),
        note: Set(note),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
