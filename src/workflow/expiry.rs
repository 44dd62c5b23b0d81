//! Expiry is a transition like a decision: a request left undecided past the retention
//! period, or whose holder did not answer within their link's validity, is closed by the
//! service itself and its documents destroyed. The sweeper runs it for all that are due;
//! every view and decision runs it first for the request at hand, so that none waits for
//! the next sweep to see a request as what it is.

use chrono::{DateTime, Utc};
use entities::request;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::close::{close, Closing, Decider};
use super::state::{self, Guard, HolderLink, Step};
use super::RequestState;
use crate::evidence::audit::Action;
use crate::workflow::rules::retention_cutoff;
use crate::workflow::services::Services;

/// Expires requests left undecided past the retention period, and those whose holder did
/// not answer within the holder link's validity, shredding them like a decision.
pub async fn expire_stale_requests(
    services: &Services,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let stale: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(state::pending())
        .filter(request::Column::CreatedAt.lte(retention_cutoff(&services.settings, now)))
        .into_tuple()
        .all(&services.db)
        .await?;
    let unanswered: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::State.eq(RequestState::AwaitingHolder))
        .filter(request::Column::HolderLinkExpiresAt.lte(now))
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut expired = 0;
    for (ids, cause) in [(stale, Cause::Retention), (unanswered, Cause::HolderSilent)] {
        for id in ids {
            if expire(services, id, cause, now).await? {
                expired += 1;
            }
        }
    }
    Ok(expired)
}

/// Why a request expires.
#[derive(Clone, Copy)]
enum Cause {
    /// Not decided within the retention period.
    Retention,
    /// The holder did not answer within the validity of their link.
    HolderSilent,
}

/// Expires one request now if it is pending and past its retention, so that no view or
/// decision waits for the next sweep to see it as what it is. Returns whether it expired.
pub async fn expire_if_due(
    services: &Services,
    request_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let expired = expire(services, request_id, Cause::Retention, now).await?;
    if expired {
        super::shred::unlink_after_commit(services).await;
    }
    Ok(expired)
}

/// The expiry of one request: state, evidence record and shredding in one transaction.
async fn expire(
    services: &Services,
    request_id: Uuid,
    cause: Cause,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let (guard, reason) = match cause {
        Cause::Retention => (
            Guard {
                created_before: Some(retention_cutoff(&services.settings, now)),
                ..Guard::system(now)
            },
            super::reason::NOT_DECIDED,
        ),
        Cause::HolderSilent => (
            Guard {
                holder_link: Some(HolderLink::Ended),
                ..Guard::system(now)
            },
            super::reason::HOLDER_SILENT,
        ),
    };
    if !state::apply(&txn, request_id, Step::Expire, &guard, None).await? {
        return Ok(false);
    }
    let Some(found) = request::Entity::find_by_id(request_id).one(&txn).await? else {
        return Ok(false);
    };
    let closing = Closing {
        found: &found,
        outcome: RequestState::Expired,
        decider: Decider::System,
        reason: super::Reason::standard(reason),
        audit: (Action::Expired, None),
        now,
    };
    close(services, &txn, closing).await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use entities::decision;

    use super::*;
    use crate::workflow::testing;

    #[tokio::test]
    async fn a_request_past_its_retention_expires_once_and_a_younger_one_not_at_all() {
        let (services, _dir) = testing::services().await;
        let now = Utc::now();
        let old =
            testing::request(&services, RequestState::Submitted, now - Duration::days(31)).await;
        let young =
            testing::request(&services, RequestState::Submitted, now - Duration::days(29)).await;
        assert!(expire_if_due(&services, old.id, now).await.unwrap());
        assert!(
            !expire_if_due(&services, old.id, now).await.unwrap(),
            "once"
        );
        assert!(!expire_if_due(&services, young.id, now).await.unwrap());
        let expired = testing::request_now(&services, old.id).await;
        assert_eq!(expired.state, RequestState::Expired);
        let decided = decision::Entity::find().all(&services.db).await.unwrap();
        assert_eq!(decided.len(), 1);
        assert_eq!(
            decided[0].reason_key.as_deref(),
            Some(crate::evidence::reason::NOT_DECIDED)
        );
        assert_eq!(decided[0].reviewer_name, "system");
    }

    #[tokio::test]
    async fn the_sweep_expires_what_is_due_and_leaves_decided_requests_alone() {
        let (services, _dir) = testing::services().await;
        let now = Utc::now();
        let month_ago = now - Duration::days(40);
        testing::request(&services, RequestState::Submitted, month_ago).await;
        testing::request(&services, RequestState::NeedsDocument, month_ago).await;
        testing::request(&services, RequestState::Rejected, month_ago).await;
        assert_eq!(expire_stale_requests(&services, now).await.unwrap(), 2);
        assert_eq!(expire_stale_requests(&services, now).await.unwrap(), 0);
    }
}
