//! Approving: this reviewer's approval is recorded and, once enough different reviewers
//! have approved, the request is won for issuing and carried out.

use chrono::{DateTime, Utc};
use entities::{approval, document, request, reviewer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::workflow::ids::RequestId;
use crate::workflow::links::Links;

use super::carry_out::{abandon_issuing, issue_code, set_nameservers, Approval};
use super::{held_request, reviewer_guard, ApprovalInput, ApproveOutcome, MAX_TEXT_CHARS};
use crate::evidence::audit::{self, Action, Actor};
use crate::workflow::documents::parse_signals;
use crate::workflow::rules;
use crate::workflow::services::Services;
use crate::workflow::shred::unlink_after_commit;
use crate::workflow::state::{self, Step};
use crate::workflow::{RequestKind, RequestState, RequesterRelation, ReviewError};

/// Approves: records this reviewer's approval and, once enough different reviewers have
/// approved, issues the code. The final approval first wins the request (a committed move
/// to `issuing` that only one caller can make), then hands the code to the registry, then
/// records it; a refused hand-off returns the request to review.
pub async fn approve(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    input: &ApprovalInput,
    links: &dyn Links,
    now: DateTime<Utc>,
) -> Result<ApproveOutcome, ReviewError> {
    let request_id = request_id.0;
    let db = &services.db;
    let found = held_request(services, request_id, me, now).await?;
    if found.state != RequestState::Submitted {
        return Err(ReviewError::WaitingForDocument);
    }
    let contested_reason = given_reason(input);
    if contested_reason.is_none()
        && rules::domain_contested(db, &found.domain, found.id, now).await?
    {
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
    let detail = detail(have, need, &found, contested_reason.as_deref());
    if have < need {
        let txn = crate::platform::db::begin_writing(db).await?;
        // Hand the request back so that a second reviewer can claim it. Guarded by the
        // claim, so a double click records one approval.
        if !give_back_claim(&txn, request_id, me, now).await? {
            return Err(ReviewError::NotClaimHolder);
        }
        record_approval(&txn, request_id, me, &detail, now).await?;
        txn.commit().await?;
        return Ok(ApproveOutcome::ApprovalRecorded { have, need });
    }

    let txn = crate::platform::db::begin_writing(db).await?;
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

    let approval = Approval {
        services,
        found: &found,
        me,
        contested_reason,
        links,
        now,
    };
    carry_out(approval).await
}

/// The reason given for approving a contested domain, trimmed and cut to length; none when
/// blank.
fn given_reason(input: &ApprovalInput) -> Option<String> {
    input
        .contested_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(MAX_TEXT_CHARS).collect::<String>())
}

/// What the audit trail records of an approval: which of how many, and what the approver
/// confirmed.
fn detail(
    have: usize,
    need: usize,
    found: &request::Model,
    contested_reason: Option<&str>,
) -> String {
    let mut detail = format!("approval {have} of {need}");
    if found.relation == RequesterRelation::Signatory {
        let uid = found.company_uid.as_deref().unwrap_or("?");
        detail.push_str(&format!(
            "; signatory of {uid} confirmed in the commercial register"
        ));
    }
    if let Some(reason) = contested_reason {
        detail.push_str(&format!(
            "; other request or code for this domain: {reason}"
        ));
    }
    detail
}

/// Issues the code or sets the nameservers of a request now `issuing`; a refused hand-off
/// returns it to review.
async fn carry_out(approval: Approval<'_>) -> Result<ApproveOutcome, ReviewError> {
    let Approval {
        services,
        found,
        me,
        now,
        ..
    } = approval;
    let kind = found.kind;
    let request_id = found.id;
    let carried_out = match kind {
        RequestKind::TransferCode => issue_code(approval).await,
        RequestKind::Nameservers => set_nameservers(approval).await,
    };
    match carried_out {
        Ok(()) => {
            services.mail_wake.notify_one();
            unlink_after_commit(services).await;
            Ok(ApproveOutcome::Approved(kind))
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
        Actor::Reviewer(&me.name),
        Action::Approval,
        Some(request_id),
        Some(detail),
    )
    .await
}

/// Fired signals of a request's live documents.
async fn live_signal_count(db: &impl ConnectionTrait, request_id: Uuid) -> Result<usize, DbErr> {
    let eid = crate::workflow::eid::signal_count(db, request_id).await?;
    let documents: usize = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(rules::live_documents())
        .all(db)
        .await?
        .iter()
        .map(|d| parse_signals(&d.signals).fired())
        .sum();
    Ok(eid + documents)
}

#[cfg(test)]
mod tests {
    use entities::transfer_code;
    use sea_orm::sea_query::Expr;

    use super::*;
    use crate::workflow::{queue, testing};

    /// Approves now, with links that are never followed.
    async fn approve_now(
        services: &Services,
        id: Uuid,
        me: &reviewer::Model,
        input: &ApprovalInput,
    ) -> Result<ApproveOutcome, ReviewError> {
        approve(
            services,
            RequestId(id),
            me,
            input,
            &testing::NamedLinks,
            Utc::now(),
        )
        .await
    }

    async fn claim(services: &Services, id: Uuid, me: &reviewer::Model) {
        queue::claim(
            &services.db,
            &services.settings,
            RequestId(id),
            me,
            Utc::now(),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_fired_signal_needs_two_reviewers_and_the_second_approval_issues_the_code() {
        let (services, _dir, found) =
            testing::with_request(RequestState::Submitted, Utc::now()).await;
        document::Entity::update_many()
            .col_expr(
                document::Column::Signals,
                Expr::value(r#"{"no_camera_data":true}"#),
            )
            .exec(&services.db)
            .await
            .unwrap();
        let alice = testing::reviewer(&services, "alice").await;
        let bob = testing::reviewer(&services, "bob").await;
        let input = ApprovalInput::default();

        claim(&services, found.id, &alice).await;
        let first = approve_now(&services, found.id, &alice, &input).await;
        assert_eq!(
            first.unwrap(),
            ApproveOutcome::ApprovalRecorded { have: 1, need: 2 }
        );
        claim(&services, found.id, &alice).await;
        let again = approve_now(&services, found.id, &alice, &input).await;
        assert!(matches!(again, Err(ReviewError::AlreadyApproved)));
        assert!(transfer_code::Entity::find()
            .one(&services.db)
            .await
            .unwrap()
            .is_none());

        queue::release(&services.db, RequestId(found.id), &alice)
            .await
            .unwrap();
        claim(&services, found.id, &bob).await;
        let second = approve_now(&services, found.id, &bob, &input).await;
        assert_eq!(
            second.unwrap(),
            ApproveOutcome::Approved(RequestKind::TransferCode)
        );
        let approved = testing::request_now(&services, found.id).await;
        assert_eq!(approved.state, RequestState::Approved);
        assert!(transfer_code::Entity::find()
            .one(&services.db)
            .await
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn without_a_claim_nobody_approves() {
        let (services, _dir, found) =
            testing::with_request(RequestState::Submitted, Utc::now()).await;
        let alice = testing::reviewer(&services, "alice").await;
        let refused = approve_now(&services, found.id, &alice, &ApprovalInput::default()).await;
        assert!(matches!(refused, Err(ReviewError::NotClaimHolder)));
    }
}
