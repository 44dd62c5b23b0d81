//! The workflow's named query rules, beside `state::pending()`: what a live document, a live
//! code, a request within its retention and a contested domain are, each written once.

use chrono::{DateTime, Duration, Utc};
use entities::{request, transfer_code};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use super::state;
use crate::platform::config::Settings;
use crate::platform::crypto::{HolderToken, TrackingToken};

pub use crate::platform::keyring::live_documents;

/// The request a requester's tracking link opens.
pub fn tracking_link(token: &TrackingToken) -> SimpleExpr {
    request::Column::TrackingTokenHash.eq(token.hash().to_vec())
}

/// The request a holder's link opens.
pub fn holder_link(token: &HolderToken) -> SimpleExpr {
    request::Column::HolderTokenHash.eq(token.hash().to_vec())
}

/// The request a tracking link opens, if any.
pub async fn request_of_tracking_link(
    db: &impl ConnectionTrait,
    token: &TrackingToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(tracking_link(token))
        .one(db)
        .await
}

/// The request a holder's link opens, if any.
pub async fn request_of_holder_link(
    db: &impl ConnectionTrait,
    token: &HolderToken,
) -> Result<Option<request::Model>, DbErr> {
    request::Entity::find()
        .filter(holder_link(token))
        .one(db)
        .await
}

/// A transfer code that still works: not expired, and not erased (by expiry or an
/// objection).
pub fn live_codes(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(transfer_code::Column::ExpiresAt.gt(now))
        .add(transfer_code::Column::SealedCode.is_not_null())
}

/// A request created within the retention period (an older undecided one is due to expire).
pub fn within_retention(settings: &Settings, now: DateTime<Utc>) -> SimpleExpr {
    request::Column::CreatedAt.gt(retention_cutoff(settings, now))
}

/// The other pending requests for `domain`, oldest first.
pub fn other_pending(domain: &str, except: Uuid) -> Select<request::Entity> {
    request::Entity::find()
        .filter(request::Column::Domain.eq(domain))
        .filter(request::Column::Id.ne(except))
        .filter(state::pending())
}

/// The live codes for `domain` issued to other requests.
pub fn other_live_codes(
    domain: &str,
    except: Uuid,
    now: DateTime<Utc>,
) -> Select<transfer_code::Entity> {
    transfer_code::Entity::find()
        .filter(transfer_code::Column::Domain.eq(domain))
        .filter(transfer_code::Column::RequestId.ne(except))
        .filter(live_codes(now))
}

/// Whether `domain` is contested besides the request `except`: another request for it is
/// pending, or another code for it is live. Approving then needs a stated reason.
pub async fn domain_contested(
    db: &impl ConnectionTrait,
    domain: &str,
    except: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(other_pending(domain, except).one(db).await?.is_some()
        || other_live_codes(domain, except, now)
            .one(db)
            .await?
            .is_some())
}

/// Requests created before this instant are past their retention and due to expire.
pub fn retention_cutoff(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(settings.retention_days)
}
