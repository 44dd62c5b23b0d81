//! The request state machine: every allowed move is one row of [`RULES`], and every caller
//! (reviewers, the requester, the sweeper) moves a request through [`apply`].
//!
//! | step             | from                                  | to               | timeline event       |
//! |------------------|---------------------------------------|------------------|----------------------|
//! | ask for document | submitted                             | needs_document   | `document_requested` |
//! | receive document | needs_document                        | submitted        | `document_received`  |
//! | begin issuing    | submitted                             | issuing          | —                    |
//! | finish issuing   | issuing                               | approved         | `approved`           |
//! | abandon issuing  | issuing                               | submitted        | `issuing_failed`     |
//! | holder confirms  | awaiting_holder                       | submitted        | `holder_confirmed`   |
//! | holder refuses   | awaiting_holder                       | rejected         | `holder_refused`     |
//! | e-ID proven      | awaiting_eid                          | submitted        | `eid_proven`         |
//! | photos instead   | awaiting_eid                          | submitted        | `document_received`  |
//! | reject           | submitted, needs_document             | rejected         | `rejected`           |
//! | expire           | every pending state                   | expired          | `expired`            |
//!
//! A request starts as `submitted`, as `awaiting_holder` when the holder verifies directly,
//! or as `awaiting_eid` when the requester proves who they are with the e-ID.
//!
//! Every step clears the review claim; every step but "ask for document" clears what the
//! requester was asked for. Approved, rejected and expired are final.

use chrono::{DateTime, Utc};
use entities::enums::RequestState::{self, *};
use entities::{request, request_event};
use sea_orm::sea_query::Expr;
use sea_orm::UpdateMany;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::platform::db::SetNull;

/// States in which a request waits for a decision and still has documents.
pub const PENDING: [RequestState; 5] = [
    Submitted,
    NeedsDocument,
    AwaitingHolder,
    AwaitingEid,
    Issuing,
];
/// The states a request starts in.
pub const INITIAL: [RequestState; 3] = [Submitted, AwaitingHolder, AwaitingEid];
/// States in which a reviewer may claim a request.
pub const CLAIMABLE: [RequestState; 2] = [Submitted, NeedsDocument];

pub fn is_pending(state: RequestState) -> bool {
    PENDING.contains(&state)
}

/// The query condition "the request is pending".
pub fn pending() -> Condition {
    Condition::all().add(request::Column::State.is_in(PENDING))
}

/// The query condition "a reviewer may claim it".
pub fn claimable() -> Condition {
    Condition::all().add(request::Column::State.is_in(CLAIMABLE))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    AskForDocument,
    ReceiveDocument,
    /// The final approval wins the request before the code leaves the building.
    BeginIssuing,
    FinishIssuing,
    /// The registry refused the code (or the issuing was interrupted): back to review.
    AbandonIssuing,
    /// The holder confirmed through their own link, with their identity document.
    HolderConfirms,
    HolderRefuses,
    /// The requester's e-ID answer was verified (and, on the same device, confirmed by the
    /// browser that started it).
    EidProven,
    /// The requester sends photos of their identity document instead of using the e-ID.
    PhotosInstead,
    Reject,
    Expire,
}

pub struct Rule {
    pub step: Step,
    pub from: &'static [RequestState],
    pub to: RequestState,
    /// The timeline event the requester sees, if any.
    pub event: Option<Event>,
}

pub const RULES: [Rule; 11] = [
    Rule {
        step: Step::AskForDocument,
        from: &[Submitted],
        to: NeedsDocument,
        event: Some(Event::DocumentRequested),
    },
    Rule {
        step: Step::ReceiveDocument,
        from: &[NeedsDocument],
        to: Submitted,
        event: Some(Event::DocumentReceived),
    },
    Rule {
        step: Step::BeginIssuing,
        from: &[Submitted],
        to: Issuing,
        event: None,
    },
    Rule {
        step: Step::FinishIssuing,
        from: &[Issuing],
        to: Approved,
        event: Some(Event::Approved),
    },
    Rule {
        step: Step::AbandonIssuing,
        from: &[Issuing],
        to: Submitted,
        event: Some(Event::IssuingFailed),
    },
    Rule {
        step: Step::HolderConfirms,
        from: &[AwaitingHolder],
        to: Submitted,
        event: Some(Event::HolderConfirmed),
    },
    Rule {
        step: Step::HolderRefuses,
        from: &[AwaitingHolder],
        to: Rejected,
        event: Some(Event::HolderRefused),
    },
    Rule {
        step: Step::EidProven,
        from: &[AwaitingEid],
        to: Submitted,
        event: Some(Event::EidProven),
    },
    Rule {
        step: Step::PhotosInstead,
        from: &[AwaitingEid],
        to: Submitted,
        event: Some(Event::DocumentReceived),
    },
    Rule {
        step: Step::Reject,
        from: &[Submitted, NeedsDocument],
        to: Rejected,
        event: Some(Event::Rejected),
    },
    Rule {
        step: Step::Expire,
        from: &PENDING,
        to: Expired,
        event: Some(Event::Expired),
    },
];

impl Step {
    pub fn rule(self) -> &'static Rule {
        RULES
            .iter()
            .find(|rule| rule.step == self)
            .expect("every step has a rule (checked by a unit test)")
    }
}

/// The events of a request's timeline, stored as their names (the pages say `event-<name>`
/// to the requester and `staff-event-<name>` to reviewers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Submitted,
    DocumentRequested,
    DocumentReceived,
    Approved,
    IssuingFailed,
    Rejected,
    Expired,
    CodeErased,
    HolderConfirmed,
    HolderRefused,
    /// The registrant on file (or an admin) undid an approval: the code was cancelled, or the
    /// nameserver change stopped.
    Objected,
    /// A message, its text as the note (erased with the personal data).
    MessageFromRequester,
    MessageFromStaff,
    /// The requester proved who they are with the e-ID.
    EidProven,
}

impl Event {
    pub const ALL: [Event; 14] = [
        Event::Submitted,
        Event::DocumentRequested,
        Event::DocumentReceived,
        Event::Approved,
        Event::IssuingFailed,
        Event::Rejected,
        Event::Expired,
        Event::CodeErased,
        Event::HolderConfirmed,
        Event::HolderRefused,
        Event::Objected,
        Event::MessageFromRequester,
        Event::MessageFromStaff,
        Event::EidProven,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Submitted => "submitted",
            Event::DocumentRequested => "document_requested",
            Event::DocumentReceived => "document_received",
            Event::Approved => "approved",
            Event::IssuingFailed => "issuing_failed",
            Event::Rejected => "rejected",
            Event::Expired => "expired",
            Event::CodeErased => "code_erased",
            Event::HolderConfirmed => "holder_confirmed",
            Event::HolderRefused => "holder_refused",
            Event::Objected => "objected",
            Event::MessageFromRequester => "message_from_requester",
            Event::MessageFromStaff => "message_from_staff",
            Event::EidProven => "eid_proven",
        }
    }
}

/// What must still hold when the move is written, besides the from-state.
pub struct Guard {
    pub now: DateTime<Utc>,
    /// The reviewer who must hold the live claim (reviewers' decisions).
    pub claim_holder: Option<Uuid>,
    /// The request must have been created after this (not yet due to expire).
    pub created_after: Option<DateTime<Utc>>,
    /// The request must have been created before this (due to expire).
    pub created_before: Option<DateTime<Utc>>,
    /// Whether the holder's private link must still be valid (`Live`) or over (`Ended`).
    pub holder_link: Option<HolderLink>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolderLink {
    Live,
    Ended,
}

impl Guard {
    /// A move by the system (the sweeper), which needs no claim.
    pub fn system(now: DateTime<Utc>) -> Self {
        Guard {
            now,
            claim_holder: None,
            created_after: None,
            created_before: None,
            holder_link: None,
        }
    }
}

/// Moves a request by `step` in one guarded UPDATE and records its timeline event. Returns
/// whether it moved: of two concurrent callers, exactly one does. Call it inside the
/// transaction that writes what else the move means (the decision, the shredding).
pub async fn apply(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    step: Step,
    guard: &Guard,
    note: Option<String>,
) -> Result<bool, DbErr> {
    let rule = step.rule();
    let now = guard.now;
    let mut update = without_claim(request::Entity::update_many())
        .col_expr(request::Column::State, Expr::value(rule.to))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::State.is_in(rule.from.iter().copied()));
    if !is_pending(rule.to) {
        update = update.col_expr(request::Column::DecidedAt, Expr::value(Some(now)));
    }
    if step != Step::AskForDocument {
        update = update.set_null([
            request::Column::RequestedDocument,
            request::Column::RequestedNote,
        ]);
    }
    if let Some(holder) = guard.claim_holder {
        update = update
            .filter(request::Column::ClaimedBy.eq(holder))
            .filter(request::Column::ClaimExpiresAt.gt(now));
    }
    if let Some(cutoff) = guard.created_after {
        update = update.filter(request::Column::CreatedAt.gt(cutoff));
    }
    if let Some(cutoff) = guard.created_before {
        update = update.filter(request::Column::CreatedAt.lte(cutoff));
    }
    match guard.holder_link {
        Some(HolderLink::Live) => {
            update = update.filter(request::Column::HolderLinkExpiresAt.gt(now));
        }
        Some(HolderLink::Ended) => {
            update = update
                .filter(request::Column::State.eq(AwaitingHolder))
                .filter(request::Column::HolderLinkExpiresAt.lte(now));
        }
        None => {}
    }
    if update.exec(db).await?.rows_affected != 1 {
        return Ok(false);
    }
    if let Some(kind) = rule.event {
        record_event(db, request_id, kind, note, now).await?;
    }
    Ok(true)
}

/// An update that also ends the review claim.
pub fn without_claim(update: UpdateMany<request::Entity>) -> UpdateMany<request::Entity> {
    update.set_null([request::Column::ClaimedBy, request::Column::ClaimExpiresAt])
}

/// Appends an event to the request's timeline.
pub async fn record_event(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    kind: Event,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    request_event::ActiveModel {
        request_id: Set(request_id),
        at: Set(now),
        kind: Set(kind.as_str().to_owned()),
        note: Set(note),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    const STEPS: [Step; 11] = [
        Step::EidProven,
        Step::PhotosInstead,
        Step::HolderConfirms,
        Step::HolderRefuses,
        Step::AskForDocument,
        Step::ReceiveDocument,
        Step::BeginIssuing,
        Step::FinishIssuing,
        Step::AbandonIssuing,
        Step::Reject,
        Step::Expire,
    ];

    #[test]
    fn every_step_has_exactly_one_rule_that_moves() {
        for step in STEPS {
            assert_eq!(RULES.iter().filter(|r| r.step == step).count(), 1);
            let rule = step.rule();
            assert!(!rule.from.is_empty());
            assert!(!rule.from.contains(&rule.to), "{step:?} stays put");
        }
    }

    #[test]
    fn final_states_have_no_way_out_and_pending_ones_all_expire() {
        for state in RequestState::iter() {
            let leaves = RULES.iter().any(|r| r.from.contains(&state));
            assert_eq!(leaves, is_pending(state), "{state:?}");
            if is_pending(state) {
                assert!(Step::Expire.rule().from.contains(&state), "{state:?}");
            }
        }
    }

    #[test]
    fn every_state_is_reachable_from_submission() {
        let mut reached = INITIAL.to_vec();
        let mut frontier = INITIAL.to_vec();
        while let Some(state) = frontier.pop() {
            for rule in RULES.iter().filter(|r| r.from.contains(&state)) {
                if !reached.contains(&rule.to) {
                    reached.push(rule.to);
                    frontier.push(rule.to);
                }
            }
        }
        for state in RequestState::iter() {
            assert!(reached.contains(&state), "{state:?} cannot be reached");
        }
    }

    #[test]
    fn only_claimable_states_are_decided_by_reviewers() {
        for step in [Step::AskForDocument, Step::BeginIssuing, Step::Reject] {
            for from in step.rule().from {
                assert!(CLAIMABLE.contains(from), "{step:?} from {from:?}");
            }
        }
    }
}
