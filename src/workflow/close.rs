//! Closing a request. Every way a request ends — approved (a code issued, nameservers
//! approved), rejected by a reviewer, refused by the holder, expired — records the same
//! things in the transaction that moved its state: the decision row (the evidence record),
//! the decision metric, its audit line, the requester's mail, and the destruction of every
//! document key. Callers say only what differs.

use chrono::{DateTime, Utc};
use entities::{decision, request, reviewer};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use super::shred::{document_kinds, shred_documents};
use super::{language_of, notify, Reason, RequestState};
use crate::audit;
use crate::mail::Mail;
use crate::services::Services;

/// Who decided.
#[derive(Clone, Copy)]
pub enum Decider<'a> {
    Reviewer(&'a reviewer::Model),
    /// The holder, refusing from their own link.
    Holder,
    /// The service itself (expiry).
    System,
}

impl Decider<'_> {
    pub fn name(&self) -> &str {
        match self {
            Decider::Reviewer(me) => &me.name,
            Decider::Holder => "holder",
            Decider::System => "system",
        }
    }

    fn id(&self) -> Option<uuid::Uuid> {
        match self {
            Decider::Reviewer(me) => Some(me.id),
            _ => None,
        }
    }
}

/// How a request ends.
pub struct Closing<'a> {
    pub found: &'a request::Model,
    pub outcome: RequestState,
    pub decider: Decider<'a>,
    pub reason: Reason,
    /// The audit line of the decision: its action and detail.
    pub audit: (&'static str, Option<String>),
    pub now: DateTime<Utc>,
}

/// Records the end of a request, in the caller's transaction (which has already moved the
/// state with `state::apply`).
pub async fn close(
    services: &Services,
    txn: &impl ConnectionTrait,
    closing: Closing<'_>,
) -> Result<(), DbErr> {
    let Closing {
        found,
        outcome,
        decider,
        reason,
        audit: (action, detail),
        now,
    } = closing;
    decision::ActiveModel {
        request_id: Set(found.id),
        reviewer_id: Set(decider.id()),
        reviewer_name: Set(decider.name().to_owned()),
        outcome: Set(outcome),
        reason: Set(reason.text.clone()),
        reason_key: Set(reason.key.clone()),
        document_kinds: Set(document_kinds(txn, found.id).await?),
        decided_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    crate::observe::decision(outcome);
    audit::record(
        txn,
        decider.name(),
        action,
        Some(found.id),
        detail.as_deref(),
    )
    .await?;
    let mail = Mail::Decided {
        domain: found.domain.clone(),
        kind: found.kind,
        outcome,
        reason: (!reason.is_empty() && outcome != RequestState::Approved).then_some(reason),
    };
    notify(
        services,
        txn,
        found.id,
        &found.requester_email,
        language_of(found),
        mail,
        now,
    )
    .await?;
    shred_documents(txn, found.id, None, decider.name(), now)
        .await
        .map(|_| ())
}
