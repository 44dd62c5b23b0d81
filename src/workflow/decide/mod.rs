//! A reviewer's decisions, one room each: approving (four-eyes, then carrying the approval
//! out: a code issued or nameservers set), rejecting with a reason, and asking the requester
//! for a new document (with the requester sending it).

mod approve;
mod ask;
mod carry_out;
mod reject;

use chrono::{DateTime, Utc};
use entities::{request, reviewer};
use sea_orm::EntityTrait;
use uuid::Uuid;

pub use approve::approve;
pub use ask::{provide_document, request_document};
pub use reject::reject;

use super::close::{Closing, Decider};
use super::queue::lease_is_live;
use super::state::{self, Guard};
use super::{Reason, RequestKind, RequestState, ReviewError};
use crate::evidence::audit::Action;
use crate::workflow::rules::retention_cutoff;
use crate::workflow::services::Services;

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
}

/// Loads a request the caller holds the live claim on, in a decidable state and not past
/// its retention.
pub(super) async fn held_request(
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
pub(super) fn reviewer_guard(
    services: &Services,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Guard {
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
        false => format!(
            "{outcome}: {}",
            reason.in_lang(crate::platform::i18n::Lang::En)
        ),
        true => outcome,
    }
}

/// A reviewer's closing of `found` with `outcome`.
pub(super) fn reviewer_closing<'a>(
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
        audit: (Action::Decision, Some(decision_detail(outcome, &reason))),
        reason,
        now,
    }
}

/// A reviewer's words for the requester: trimmed, required, at most [`MAX_TEXT_CHARS`].
pub(super) fn text_for_requester(
    text: &str,
    when_missing: ReviewError,
) -> Result<String, ReviewError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(when_missing);
    }
    Ok(text.chars().take(MAX_TEXT_CHARS).collect())
}
