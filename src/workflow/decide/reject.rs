//! Rejecting, with a standard reason, the reviewer's own words, or both.

use chrono::{DateTime, Utc};
use entities::reviewer;

use crate::workflow::ids::RequestId;

use super::{held_request, reviewer_closing, reviewer_guard, text_for_requester};
use crate::workflow::close::close;
use crate::workflow::services::Services;
use crate::workflow::shred::unlink_after_commit;
use crate::workflow::state::{self, Step};
use crate::workflow::{Reason, RequestState, ReviewError, REJECTION_REASONS};

/// Rejects with a standard reason (one of [`REJECTION_REASONS`]), the reviewer's own words,
/// or both; at least one is required.
pub async fn reject(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    standard: Option<&str>,
    words: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let request_id = request_id.0;
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
    let txn = crate::platform::db::begin_writing(&services.db).await?;
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
