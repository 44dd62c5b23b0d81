//! The background jobs, run at start-up and every five minutes: expiry, interrupted
//! issuing, the code TTL, the deletion outbox and orphaned files. Each stage runs on its
//! own: one that fails is logged and the others still run.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entities::{approval, document, request, request_event, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::rules;
use super::shred::process_outbox;
use super::state::{self, record_event, Event, Guard, Step};
use super::RequestState;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::db::SetNull;
use crate::workflow::services::Services;

/// How long a request may stay in `issuing` before the sweeper returns it to review: the
/// registry command times out after 30 seconds, so only a crash leaves one that long.
pub const ISSUING_STALE_AFTER: Duration = Duration::minutes(10);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub requests_expired: usize,
    pub issuing_abandoned: usize,
    pub codes_erased: usize,
    /// Approved nameserver changes handed to the registry once their objection window passed.
    pub nameservers_handed_off: usize,
    pub unlinked_from_outbox: usize,
    pub orphans_removed: usize,
    /// Decided requests whose personal data were erased (evidence period over).
    pub personal_data_erased: usize,
    /// Ended sessions and old attempt counters removed.
    pub stale_rows_purged: usize,
    /// The size of the audit log's checkpoint signed in this pass (0: none was due).
    pub checkpoint_signed: usize,
    /// Stages that failed (each is logged); the others ran.
    pub failed: Vec<&'static str>,
    /// Another instance was sweeping the same database, so this pass did nothing.
    pub left_to_another_instance: bool,
}

/// One pass of every stage, unless another instance is sweeping the same database.
pub async fn sweep(services: &Services, now: DateTime<Utc>) -> SweepReport {
    let lock = match SweepLock::take(&services.db).await {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            return SweepReport {
                left_to_another_instance: true,
                ..Default::default()
            }
        }
        Err(error) => {
            tracing::error!(%error, "cannot take the sweeper's lock");
            return SweepReport {
                failed: vec!["lock"],
                ..Default::default()
            };
        }
    };
    let report = sweep_stages(services, now).await;
    lock.release().await;
    report
}

/// On PostgreSQL, a transaction-scoped advisory lock held for the whole pass: instances
/// sharing the database sweep one at a time. Every stage is also guarded row by row, so a
/// pass that overlaps another (SQLite files shared by processes, a lock lost with its
/// connection) still does each piece of work once.
struct SweepLock(Option<sea_orm::DatabaseTransaction>);

/// The advisory lock's key: "TDSWEEP1" read as a number.
pub const SWEEP_LOCK_KEY: i64 = 0x5444_5357_4545_5031;

impl SweepLock {
    async fn take(db: &sea_orm::DatabaseConnection) -> Result<Option<Self>, DbErr> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(Some(Self(None)));
        }
        let txn = crate::platform::db::begin_writing(db).await?;
        let row = txn
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS taken",
                [SWEEP_LOCK_KEY.into()],
            ))
            .await?;
        let taken = match row {
            Some(row) => row.try_get::<bool>("", "taken")?,
            None => false,
        };
        Ok(taken.then_some(Self(Some(txn))))
    }

    async fn release(self) {
        if let Some(txn) = self.0 {
            if let Err(error) = txn.commit().await {
                tracing::warn!(%error, "cannot release the sweeper's lock; it ends with its connection");
            }
        }
    }
}

async fn sweep_stages(services: &Services, now: DateTime<Utc>) -> SweepReport {
    let mut report = SweepReport::default();
    let mut failed = Vec::new();
    let mut stage = |name: &'static str, result: Result<usize, DbErr>| match result {
        Ok(count) => count,
        Err(error) => {
            tracing::error!(stage = name, %error, "a sweeper stage failed; the others still run");
            failed.push(name);
            0
        }
    };
    report.requests_expired = stage(
        "expiry",
        super::expiry::expire_stale_requests(services, now).await,
    );
    report.issuing_abandoned = stage(
        "interrupted issuing",
        abandon_stale_issuing(services, now).await,
    );
    report.codes_erased = stage("code expiry", erase_expired_codes(&services.db, now).await);
    report.nameservers_handed_off = stage(
        "nameserver hand-offs",
        super::objection::hand_off_due(services, now).await,
    );
    report.unlinked_from_outbox = stage("deletion outbox", process_outbox(services).await);
    report.orphans_removed = stage("orphaned files", remove_orphans(services, now).await);
    report.personal_data_erased = stage("personal data", erase_personal_data(services, now).await);
    report.stale_rows_purged = stage(
        "sessions and counters",
        purge_stale_rows(services, now).await,
    );
    // Last, so that it covers what the other stages recorded.
    report.checkpoint_signed = stage("audit checkpoint", sign_checkpoint(services, now).await);
    report.failed = failed;
    report
}

async fn sign_checkpoint(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    use crate::evidence::log::{checkpoint_if_due, LogError};
    let refused = |error: LogError| match error {
        LogError::Database(error) => error,
        other => DbErr::Custom(other.to_string()),
    };
    let pinned = services
        .log_key
        .as_ref()
        .ok_or_else(|| refused(LogError::NotPinned))?;
    let signed = checkpoint_if_due(
        &services.db,
        &services.master_key,
        pinned,
        &services.settings.data_dir,
        services.settings.checkpoint_every,
        now,
    )
    .await
    .map_err(refused)?;
    let Some(signed) = signed.map(|size| size as usize) else {
        return Ok(0);
    };
    // A checkpoint protects only once it has left the operator's hands: the staff address
    // (a mail archive) keeps each one as a witness.
    if let (Some(staff), Some(latest)) = (
        &services.settings.staff_mail,
        crate::evidence::log::latest_checkpoint(&services.db).await?,
    ) {
        let mail = crate::mail::Mail::StaffCheckpoint {
            size: signed,
            note: latest.note,
            key: pinned.verifier_key(),
        };
        crate::mail::enqueue(
            &services.db,
            &services.master_key,
            services.settings.smtp_url.is_some(),
            None,
            staff,
            crate::platform::i18n::Lang::En,
            mail,
            now,
        )
        .await?;
        services.mail_wake.notify_one();
    }
    Ok(signed)
}

/// Removes files in the store that no live document refers to (a crash between writing and
/// committing, or between committing a shred and unlinking), once older than the grace
/// period so that a submission in progress is never touched.
async fn remove_orphans(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let live: HashSet<String> = document::Entity::find()
        .select_only()
        .column(document::Column::StorageName)
        .filter(rules::live_documents())
        .into_tuple::<String>()
        .all(&services.db)
        .await?
        .into_iter()
        .collect();
    let grace = services.settings.sweep_grace.to_std().unwrap_or_default();
    let cutoff = std::time::SystemTime::from(now) - grace;
    let candidates = services
        .store
        .entries_older_than(cutoff)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot list the document store: {e}")))?;
    let mut removed = 0;
    for name in candidates.into_iter().filter(|name| !live.contains(name)) {
        match services.store.remove_entry(&name).await {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(%error, "cannot remove an orphaned file"),
        }
    }
    if removed > 0 {
        tracing::info!(removed, "sweeper removed orphaned files from the store");
    }
    Ok(removed)
}

/// Returns to review a request whose issuing was interrupted (a crash between winning the
/// approval and recording the code). The final approval is withdrawn; the audit trail warns
/// that the registry may have received a code that was never recorded.
async fn abandon_stale_issuing(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let stale: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::State.eq(RequestState::Issuing))
        .filter(request::Column::UpdatedAt.lte(now - ISSUING_STALE_AFTER))
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut abandoned = 0;
    for id in stale {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        if !state::apply(&txn, id, Step::AbandonIssuing, &Guard::system(now), None).await? {
            continue;
        }
        let last = approval::Entity::find()
            .filter(approval::Column::RequestId.eq(id))
            .order_by_desc(approval::Column::ApprovedAt)
            .one(&txn)
            .await?;
        if let Some(last) = last {
            approval::Entity::delete_many()
                .filter(approval::Column::RequestId.eq(id))
                .filter(approval::Column::ReviewerId.eq(last.reviewer_id))
                .exec(&txn)
                .await?;
        }
        audit::record(
            &txn,
            Actor::System,
            Action::IssuingFailed,
            Some(id),
            Some("issuing was interrupted; the registry may hold a code that was never recorded"),
        )
        .await?;
        txn.commit().await?;
        abandoned += 1;
    }
    Ok(abandoned)
}

/// After the evidence period, a decided request keeps only its evidence record (domain,
/// decision, who, when, which kinds of document, why): the requester's name, email, phone
/// and address, and the code's recipient, are erased.
async fn erase_personal_data(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let cutoff = now - Duration::days(services.settings.evidence_days);
    let due: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::DecidedAt.lt(cutoff))
        .filter(request::Column::PersonalDataErasedAt.is_null())
        .into_tuple()
        .all(&services.db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let erased = request::Entity::update_many()
        .col_expr(request::Column::RequesterName, Expr::value(""))
        .col_expr(request::Column::RequesterEmail, Expr::value(""))
        .set_null([
            request::Column::RequesterPhone,
            request::Column::ClientAddr,
            request::Column::RequestedNote,
            request::Column::HolderName,
            request::Column::HolderEmail,
            request::Column::AwaitingReplySince,
            request::Column::CodeRecipientKey,
        ])
        .col_expr(
            request::Column::PersonalDataErasedAt,
            Expr::value(Some(now)),
        )
        .filter(request::Column::Id.is_in(due.clone()))
        .filter(request::Column::PersonalDataErasedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if erased == 0 {
        // Another instance erased them first.
        return Ok(0);
    }
    transfer_code::Entity::update_many()
        .col_expr(transfer_code::Column::Recipient, Expr::value(""))
        .set_null([transfer_code::Column::SealedCode])
        .filter(transfer_code::Column::RequestId.is_in(due.clone()))
        .exec(&txn)
        .await?;
    // The names an e-ID disclosed are personal data too; the issuer, the credential type,
    // the time and the credential's digest stay as evidence.
    entities::eid_proof::Entity::update_many()
        .col_expr(entities::eid_proof::Column::GivenName, Expr::value(""))
        .col_expr(entities::eid_proof::Column::FamilyName, Expr::value(""))
        .filter(entities::eid_proof::Column::RequestId.is_in(due.clone()))
        .exec(&txn)
        .await?;
    // What the requester and reviewers wrote to each other is personal data too.
    request_event::Entity::update_many()
        .set_null([request_event::Column::Note])
        .filter(request_event::Column::RequestId.is_in(due.clone()))
        .filter(request_event::Column::Kind.is_in([
            Event::MessageFromRequester.as_str(),
            Event::MessageFromStaff.as_str(),
        ]))
        .exec(&txn)
        .await?;
    let detail = format!("{erased} decided request(s) past the evidence period");
    audit::record(
        &txn,
        Actor::System,
        Action::PersonalDataErased,
        None,
        Some(&detail),
    )
    .await?;
    txn.commit().await?;
    Ok(usize::try_from(erased).unwrap_or(usize::MAX))
}

/// Sessions past their limits and attempt counters whose windows ended a day ago.
async fn purge_stale_rows(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let sessions = crate::accounts::sessions::purge_sessions(&services.db, now).await?;
    let counters = crate::platform::counters::purge(&services.db, now - Duration::days(2)).await?;
    let mails = crate::mail::purge_old(&services.db, now, MAILS_KEPT).await?;
    let eid = super::eid::sessions::purge(&services.db, now).await?;
    Ok(usize::try_from(sessions + counters + mails + eid).unwrap_or(usize::MAX))
}

/// Sent and given-up mails (names and addresses) are deleted after this long.
const MAILS_KEPT: Duration = Duration::days(30);

/// Erases the requester's copy of codes past their validity; the salted hash stays.
async fn erase_expired_codes(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let due: Vec<Uuid> = transfer_code::Entity::find()
        .select_only()
        .column(transfer_code::Column::RequestId)
        .filter(transfer_code::Column::ExpiresAt.lt(now))
        .filter(transfer_code::Column::SealedCode.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut erased = 0;
    for request_id in &due {
        let txn = crate::platform::db::begin_writing(db).await?;
        let done = transfer_code::Entity::update_many()
            .set_null([transfer_code::Column::SealedCode])
            .filter(transfer_code::Column::RequestId.eq(*request_id))
            .filter(transfer_code::Column::SealedCode.is_not_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if done == 0 {
            continue;
        }
        record_event(&txn, *request_id, Event::CodeErased, None, now).await?;
        audit::record(
            &txn,
            Actor::System,
            Action::CodeErased,
            Some(*request_id),
            None,
        )
        .await?;
        txn.commit().await?;
        erased += 1;
    }
    Ok(erased)
}
