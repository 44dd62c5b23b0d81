//! A reviewer's decisions: approve (with four-eyes and the registry hand-off), reject with a
//! reason, or ask the requester for a new document.

use chrono::{DateTime, Duration, Utc};
use entities::{approval, document, domain, request, reviewer, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::close::{close, Closing, Decider};
use super::queue::lease_is_live;
use super::shred::unlink_after_commit;
use super::state::{self, Guard, Step};
use super::{
    language_of, notify, parse_signals, retention_cutoff, DocumentKind, Reason, RequestKind,
    RequestState, RequesterRelation, ReviewError, REJECTION_REASONS,
};
use crate::audit;
use crate::codes::{RecipientKey, TransferCode, SALT_LEN, VALIDITY_DAYS};
use crate::crypto::{self, TrackingToken};
use crate::i18n::Lang;
use crate::mail::{Approved, Mail};
use crate::registry::{self, Action};
use crate::services::Services;

/// Longest text a reviewer writes for the requester (a reason, a note).
pub const MAX_TEXT_CHARS: usize = 2000;

#[derive(Debug, PartialEq, Eq)]
pub enum ApproveOutcome {
    /// The code was issued, or the nameservers set.
    Approved(RequestKind),
    /// More approvals from other reviewers are needed.
    ApprovalRecorded { have: usize, need: usize },
}

/// What the approver says besides "approve".
#[derive(Debug, Default)]
pub struct ApprovalInput {
    /// Why approving is right although the domain has another pending request or a live
    /// code; required in that case.
    pub contested_reason: Option<String>,
    /// For a signatory's request: the approver checked the commercial register.
    pub signatory_confirmed: bool,
    /// Where links in the mails an approval sends point (`https://desk.example`).
    pub link_base: String,
}

/// Loads a request the caller holds the live claim on, in a decidable state and not past
/// its retention.
async fn held_request(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<request::Model, ReviewError> {
    super::expiry::expire_if_due(services, request_id, now).await?;
    let found = request::Entity::find_by_id(request_id)
        .one(&services.db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if !state::CLAIMABLE.contains(&found.state) {
        return Err(ReviewError::AlreadyDecided);
    }
    if found.claimed_by != Some(me.id) || !lease_is_live(&found, now) {
        return Err(ReviewError::NotClaimHolder);
    }
    Ok(found)
}

/// A reviewer's decision, guarded by the claim and the retention period.
fn reviewer_guard(services: &Services, me: &reviewer::Model, now: DateTime<Utc>) -> Guard {
    Guard {
        now,
        claim_holder: Some(me.id),
        created_after: Some(retention_cutoff(&services.settings, now)),
        created_before: None,
        holder_link: None,
    }
}

/// The audit detail of a reviewer's decision: the outcome, and the reason when there is one.
fn decision_detail(outcome: RequestState, reason: &Reason) -> String {
    let outcome = sea_orm::ActiveEnum::to_value(&outcome);
    match reason.is_empty() {
        false => format!("{outcome}: {}", reason.in_lang(crate::i18n::Lang::En)),
        true => outcome,
    }
}

/// A reviewer's closing of `found` with `outcome`.
fn reviewer_closing<'a>(
    found: &'a request::Model,
    me: &'a reviewer::Model,
    outcome: RequestState,
    reason: Reason,
    now: DateTime<Utc>,
) -> Closing<'a> {
    Closing {
        found,
        outcome,
        decider: Decider::Reviewer(me),
        audit: (audit::DECISION, Some(decision_detail(outcome, &reason))),
        reason,
        now,
    }
}

/// Whether the domain has another pending request or a live code besides `found`.
async fn domain_contested(
    db: &impl ConnectionTrait,
    found: &request::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let other_pending = request::Entity::find()
        .filter(request::Column::Domain.eq(found.domain.as_str()))
        .filter(request::Column::Id.ne(found.id))
        .filter(state::pending())
        .one(db)
        .await?
        .is_some();
    let live_code = transfer_code::Entity::find()
        .filter(transfer_code::Column::Domain.eq(found.domain.as_str()))
        .filter(transfer_code::Column::ExpiresAt.gt(now))
        .filter(transfer_code::Column::SealedCode.is_not_null())
        .one(db)
        .await?
        .is_some();
    Ok(other_pending || live_code)
}

/// Approves: records this reviewer's approval and, once enough different reviewers have
/// approved, issues the code. The final approval first wins the request (a committed move
/// to `issuing` that only one caller can make), then hands the code to the registry, then
/// records it; a refused hand-off returns the request to review.
pub async fn approve(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    input: &ApprovalInput,
    now: DateTime<Utc>,
) -> Result<ApproveOutcome, ReviewError> {
    let db = &services.db;
    let found = held_request(services, request_id, me, now).await?;
    if found.state != RequestState::Submitted {
        return Err(ReviewError::WaitingForDocument);
    }
    let contested_reason = input
        .contested_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(MAX_TEXT_CHARS).collect::<String>());
    if contested_reason.is_none() && domain_contested(db, &found, now).await? {
        return Err(ReviewError::ConfirmationRequired);
    }
    let signatory = found.relation == RequesterRelation::Signatory;
    if signatory && !input.signatory_confirmed {
        return Err(ReviewError::SignatoryNotConfirmed);
    }
    let approvals = approval::Entity::find()
        .filter(approval::Column::RequestId.eq(request_id))
        .all(db)
        .await?;
    if approvals.iter().any(|a| a.reviewer_id == me.id) {
        return Err(ReviewError::AlreadyApproved);
    }
    let need = services
        .settings
        .approvals
        .required(live_signal_count(db, request_id).await?);
    let have = approvals.len() + 1;
    let mut detail = format!("approval {have} of {need}");
    if signatory {
        let uid = found.company_uid.as_deref().unwrap_or("?");
        detail.push_str(&format!(
            "; signatory of {uid} confirmed in the commercial register"
        ));
    }
    if let Some(reason) = &contested_reason {
        detail.push_str(&format!(
            "; other request or code for this domain: {reason}"
        ));
    }
    if have < need {
        let txn = db.begin().await?;
        // Hand the request back so that a second reviewer can claim it. Guarded by the
        // claim, so a double click records one approval.
        if !give_back_claim(&txn, request_id, me, now).await? {
            return Err(ReviewError::NotClaimHolder);
        }
        record_approval(&txn, request_id, me, &detail, now).await?;
        txn.commit().await?;
        return Ok(ApproveOutcome::ApprovalRecorded { have, need });
    }

    let txn = db.begin().await?;
    if !state::apply(
        &txn,
        request_id,
        Step::BeginIssuing,
        &reviewer_guard(services, me, now),
        None,
    )
    .await?
    {
        return Err(ReviewError::AlreadyDecided);
    }
    record_approval(&txn, request_id, me, &detail, now).await?;
    txn.commit().await?;

    let carried_out = match found.kind {
        RequestKind::TransferCode => {
            issue_code(
                services,
                &found,
                me,
                contested_reason,
                &input.link_base,
                now,
            )
            .await
        }
        RequestKind::Nameservers => {
            set_nameservers(
                services,
                &found,
                me,
                contested_reason,
                &input.link_base,
                now,
            )
            .await
        }
    };
    match carried_out {
        Ok(()) => {
            services.mail_wake.notify_one();
            unlink_after_commit(services).await;
            Ok(ApproveOutcome::Approved(found.kind))
        }
        Err(error) => {
            abandon_issuing(services, request_id, me, &error, now).await?;
            Err(error)
        }
    }
}

async fn give_back_claim(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let released = state::without_claim(request::Entity::update_many())
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::State.eq(RequestState::Submitted))
        .filter(request::Column::ClaimedBy.eq(me.id))
        .filter(request::Column::ClaimExpiresAt.gt(now))
        .exec(txn)
        .await?;
    Ok(released.rows_affected == 1)
}

/// This reviewer's approval, and its line in the audit trail.
async fn record_approval(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    me: &reviewer::Model,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    approval::ActiveModel {
        request_id: Set(request_id),
        reviewer_id: Set(me.id),
        approved_at: Set(now),
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        &me.name,
        audit::APPROVAL,
        Some(request_id),
        Some(detail),
    )
    .await
}

/// Fired signals of a request's live documents.
async fn live_signal_count(db: &impl ConnectionTrait, request_id: Uuid) -> Result<usize, DbErr> {
    Ok(document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(document::Column::WrappedKey.is_not_null())
        .all(db)
        .await?
        .iter()
        .map(|d| parse_signals(&d.signals).fired())
        .sum())
}

/// Generates the code, hands it to the registry (when configured), then records it with the
/// decision and shreds the documents. The request is in `issuing`, which only this caller
/// could make it.
async fn issue_code(
    services: &Services,
    found: &request::Model,
    me: &reviewer::Model,
    contested_reason: Option<String>,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let objection = TrackingToken::generate().map_err(|_| ReviewError::Unreadable)?;
    let request_id = found.id;
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
            registry::hand_off(command, &found.domain, &Action::SetTransferCode(&code))
                .await
                .map_err(ReviewError::Registry)?;
            "tracking link; registry command"
        }
        None => "tracking link",
    };

    let txn = services.db.begin().await?;
    if !state::apply(
        &txn,
        request_id,
        Step::FinishIssuing,
        &Guard::system(now),
        None,
    )
    .await?
    {
        return Err(ReviewError::AlreadyDecided);
    }
    let reason = contested_reason.map(Reason::written).unwrap_or_default();
    let closing = reviewer_closing(found, me, RequestState::Approved, reason, now);
    close(services, &txn, closing).await?;
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
    let approved = Approved::Code {
        expires_at: now + Duration::days(VALIDITY_DAYS),
    };
    tell_registrant(services, &txn, found, approved, &objection, link_base, now).await?;
    audit::record(
        &txn,
        &me.name,
        audit::CODE_ISSUED,
        Some(request_id),
        Some(means),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Tells the registrant on file what was approved, in their own language, with the link that
/// undoes it ("this was not me").
async fn tell_registrant(
    services: &Services,
    txn: &impl ConnectionTrait,
    found: &request::Model,
    approved: Approved,
    objection: &TrackingToken,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(registrant) = domain::Entity::find_by_id(found.domain.clone())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    request::Entity::update_many()
        .col_expr(
            request::Column::ObjectionTokenHash,
            Expr::value(Some(objection.hash().to_vec())),
        )
        .filter(request::Column::Id.eq(found.id))
        .exec(txn)
        .await?;
    let lang = registrant
        .language
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or(services.settings.default_language);
    let notice = Mail::ApprovalNotice {
        domain: found.domain.clone(),
        requester: found.requester_name.clone(),
        approved_at: now,
        approved,
        link: format!("{link_base}/objection/{}", objection.expose()),
    };
    notify(
        services,
        txn,
        found.id,
        &registrant.registrant_email,
        lang,
        notice,
        now,
    )
    .await
}

/// Approves a nameserver change: records the decision, tells the registrant on file (with
/// the link that undoes it) and shreds the documents. Without an objection window the
/// registry command sets the nameservers at once; with one, the sweeper hands them over once
/// the window has passed without an objection. The request is in `issuing`, which only this
/// caller could make it.
async fn set_nameservers(
    services: &Services,
    found: &request::Model,
    me: &reviewer::Model,
    contested_reason: Option<String>,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let hosts: Vec<String> = found
        .nameservers
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let command = services
        .settings
        .registry_command
        .as_deref()
        .ok_or_else(|| {
            ReviewError::Registry("no registry command is configured to set nameservers".into())
        })?;
    let objection = TrackingToken::generate().map_err(|_| ReviewError::Unreadable)?;
    let window = Duration::hours(services.settings.objection_hours);
    let deferred = window > Duration::zero();
    if !deferred {
        registry::hand_off(command, &found.domain, &Action::SetNameservers(&hosts))
            .await
            .map_err(ReviewError::Registry)?;
    }
    let previous = domain::Entity::find_by_id(found.domain.clone())
        .one(&services.db)
        .await?
        .and_then(|d| d.nameservers);
    let txn = services.db.begin().await?;
    if !state::apply(
        &txn,
        found.id,
        Step::FinishIssuing,
        &Guard::system(now),
        None,
    )
    .await?
    {
        return Err(ReviewError::AlreadyDecided);
    }
    let takes_effect_at = now + window;
    request::Entity::update_many()
        .col_expr(request::Column::PreviousNameservers, Expr::value(previous))
        .col_expr(
            request::Column::HandOffDueAt,
            Expr::value(deferred.then_some(takes_effect_at)),
        )
        .col_expr(
            request::Column::NameserversSetAt,
            Expr::value((!deferred).then_some(now)),
        )
        .filter(request::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    let reason = contested_reason.map(Reason::written).unwrap_or_default();
    let closing = reviewer_closing(found, me, RequestState::Approved, reason, now);
    close(services, &txn, closing).await?;
    let detail = match deferred {
        false => hosts.join(" "),
        true => format!(
            "{} (handed to the registry after the objection window, {})",
            hosts.join(" "),
            takes_effect_at.to_rfc3339()
        ),
    };
    let action = match deferred {
        false => audit::NAMESERVERS_SET,
        true => audit::NAMESERVERS_APPROVED,
    };
    audit::record(&txn, &me.name, action, Some(found.id), Some(&detail)).await?;
    let approved = Approved::Nameservers {
        hosts,
        takes_effect_at,
    };
    tell_registrant(services, &txn, found, approved, &objection, link_base, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Returns an issuing request to review after the hand-off failed; the final approval is
/// withdrawn so that it can be given again, and the audit trail says why.
async fn abandon_issuing(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    error: &ReviewError,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = services.db.begin().await?;
    if state::apply(
        &txn,
        request_id,
        Step::AbandonIssuing,
        &Guard::system(now),
        None,
    )
    .await?
    {
        approval::Entity::delete_many()
            .filter(approval::Column::RequestId.eq(request_id))
            .filter(approval::Column::ReviewerId.eq(me.id))
            .exec(&txn)
            .await?;
        let detail = error.to_string();
        audit::record(
            &txn,
            &me.name,
            audit::ISSUING_FAILED,
            Some(request_id),
            Some(&detail),
        )
        .await?;
    }
    txn.commit().await
}

/// A reviewer's words for the requester: trimmed, required, at most [`MAX_TEXT_CHARS`].
fn text_for_requester(text: &str, when_missing: ReviewError) -> Result<String, ReviewError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(when_missing);
    }
    Ok(text.chars().take(MAX_TEXT_CHARS).collect())
}

/// Rejects with a standard reason (one of [`REJECTION_REASONS`]), the reviewer's own words,
/// or both; at least one is required.
pub async fn reject(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    standard: Option<&str>,
    words: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let reason = Reason {
        key: standard
            .filter(|key| REJECTION_REASONS.contains(key))
            .map(str::to_owned),
        text: text_for_requester(words, ReviewError::MissingReason).ok(),
    };
    if reason.is_empty() {
        return Err(ReviewError::MissingReason);
    }
    let found = held_request(services, request_id, me, now).await?;
    let txn = services.db.begin().await?;
    let guard = reviewer_guard(services, me, now);
    if !state::apply(&txn, request_id, Step::Reject, &guard, None).await? {
        return Err(ReviewError::AlreadyDecided);
    }
    let closing = reviewer_closing(&found, me, RequestState::Rejected, reason, now);
    close(services, &txn, closing).await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    unlink_after_commit(services).await;
    Ok(())
}

/// Asks the requester for a new document of `kind`; they see `note` on their tracking page.
/// Approvals given so far were given on the old document, so they are withdrawn.
pub async fn request_document(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    kind: DocumentKind,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    if !super::REQUESTER_DOCUMENTS.contains(&kind) {
        return Err(ReviewError::NotRequesterDocument);
    }
    let note = text_for_requester(note, ReviewError::MissingNote)?;
    let found = held_request(services, request_id, me, now).await?;
    let txn = services.db.begin().await?;
    let guard = reviewer_guard(services, me, now);
    if !state::apply(
        &txn,
        request_id,
        Step::AskForDocument,
        &guard,
        Some(note.clone()),
    )
    .await?
    {
        return Err(ReviewError::AlreadyDecided);
    }
    request::Entity::update_many()
        .col_expr(request::Column::RequestedDocument, Expr::value(kind))
        .col_expr(request::Column::RequestedNote, Expr::value(note.clone()))
        .filter(request::Column::Id.eq(request_id))
        .exec(&txn)
        .await?;
    let withdrawn = approval::Entity::delete_many()
        .filter(approval::Column::RequestId.eq(request_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let mut detail = format!("{}: {note}", sea_orm::ActiveEnum::to_value(&kind));
    if withdrawn > 0 {
        detail.push_str(&format!(" ({withdrawn} approval(s) withdrawn)"));
    }
    audit::record(
        &txn,
        &me.name,
        audit::DOCUMENT_REQUESTED,
        Some(request_id),
        Some(&detail),
    )
    .await?;
    let mail = Mail::DocumentRequested {
        domain: found.domain.clone(),
        document: kind,
        note,
    };
    let lang = language_of(&found);
    notify(
        services,
        &txn,
        request_id,
        &found.requester_email,
        lang,
        mail,
        now,
    )
    .await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    Ok(())
}
