//! Closing a request. Every way a request ends — approved (a code issued, nameservers
//! approved), rejected by a reviewer, refused by the holder, expired — records the same
//! things in the transaction that moved its state: the decision row (the evidence record),
//! the decision metric, its audit line, the requester's mail, and the destruction of every
//! document key. Callers say only what differs.

use chrono::{DateTime, Utc};
use entities::{decision, request, reviewer};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use super::shred::{document_kinds, shred_documents};
use super::{Reason, RequestState};
use crate::evidence::audit::{self, Action, Actor};
use crate::mail::Mail;
use crate::workflow::notify::notify_requester;
use crate::workflow::services::Services;

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

    pub fn actor(&self) -> Actor<'_> {
        match self {
            Decider::Reviewer(me) => Actor::Reviewer(&me.name),
            Decider::Holder => Actor::Holder,
            Decider::System => Actor::System,
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
    pub audit: (Action, Option<String>),
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
    crate::platform::meters::decision(sea_orm::ActiveEnum::to_value(&outcome));
    audit::record(
        txn,
        decider.actor(),
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
    notify_requester(services, txn, found, mail, now).await?;
    // A decision deals with what the registry refused before it (an approval's hand-off has
    // succeeded by now).
    super::registry_refusal::clear(txn, found.id).await?;
    shred_documents(txn, found.id, None, decider.actor(), now)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use entities::{audit_event, decision, deletion, document, outbox_mail};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use super::*;
    use crate::workflow::testing;

    /// Closes `found` in a transaction of its own, as a decision does.
    async fn close_now(
        services: &Services,
        found: &request::Model,
        (outcome, decider): (RequestState, Decider<'_>),
        reason: Reason,
        now: DateTime<Utc>,
    ) {
        let txn = crate::platform::db::begin_writing(&services.db)
            .await
            .unwrap();
        let audit = (Action::Decision, None);
        let closing = Closing {
            found,
            outcome,
            decider,
            reason,
            audit,
            now,
        };
        close(services, &txn, closing).await.unwrap();
        txn.commit().await.unwrap();
    }

    #[tokio::test]
    async fn closing_records_the_evidence_tells_the_requester_and_destroys_the_keys() {
        let now = Utc::now();
        let (services, _dir, found) = testing::with_request(RequestState::Rejected, now).await;
        let me = testing::reviewer(&services, "alice").await;
        let reason = Reason::written("The photo shows someone else.");
        let rejected = (RequestState::Rejected, Decider::Reviewer(&me));
        close_now(&services, &found, rejected, reason, now).await;

        let decided = testing::first::<decision::Entity>(&services).await;
        assert_eq!(decided.outcome, RequestState::Rejected);
        assert_eq!(decided.reviewer_name, "alice");
        assert_eq!(decided.document_kinds, "id_front");
        assert_eq!(
            decided.reason.as_deref(),
            Some("The photo shows someone else.")
        );
        let documents = document::Entity::find().all(&services.db).await.unwrap();
        assert!(
            documents.iter().all(|d| d.wrapped_key.is_none()),
            "keys destroyed"
        );
        assert_eq!(
            deletion::Entity::find()
                .all(&services.db)
                .await
                .unwrap()
                .len(),
            1
        );
        let mail = testing::first::<outbox_mail::Entity>(&services).await;
        assert_eq!(
            (mail.kind.as_str(), mail.recipient.as_str()),
            ("decided", "anna@example.org")
        );
        assert!(mail.body.contains("The photo shows someone else."));
        let audited = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(Action::Decision.as_str()))
            .all(&services.db)
            .await
            .unwrap();
        assert_eq!(audited.len(), 1);
    }

    #[tokio::test]
    async fn an_approval_mails_no_reason_to_the_requester() {
        let now = Utc::now();
        let (services, _dir, found) = testing::with_request(RequestState::Approved, now).await;
        let reason = Reason::written("another request for the domain was withdrawn");
        let approved = (RequestState::Approved, Decider::System);
        close_now(&services, &found, approved, reason, now).await;
        let mail = testing::first::<outbox_mail::Entity>(&services).await;
        assert!(
            !mail.body.contains("withdrawn"),
            "the reviewer's note stays in the evidence"
        );
    }
}
