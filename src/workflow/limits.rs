//! How much one client address and one domain may ask for, counted in the database so that
//! every instance sees the same counts:
//!
//! - every request that reaches intake (a submission whose typed fields are right, a
//!   holder's confirmation, a requested document) counts against its address, an hour;
//! - refused submissions count against their address too, apart and with more room, so
//!   that one person's typing mistakes do not lock them out but a flood is stopped;
//! - a domain's daily budget refuses nothing: others' requests must never lock the real
//!   owner out, so a request past the budget is taken and flagged for the reviewers.

use chrono::{DateTime, Duration, Utc};
use entities::request;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::config::Settings;
use crate::platform::counters::{self, client_key, key};
use crate::workflow::services::Services;

const ADDRESS_WINDOW: Duration = Duration::hours(1);
const DOMAIN_WINDOW: Duration = Duration::days(1);
/// Refused submissions allowed per address an hour, as a multiple of the accepted ones.
pub const REFUSED_FACTOR: u32 = 3;

const INTAKE: &str = "submit-address";
const REFUSED: &str = "refused-address";
const STARTED: &str = "upload-started-address";

fn wait_until(started: DateTime<Utc>, window: Duration, now: DateTime<Utc>) -> Duration {
    started + window - now
}

/// Adds one to the `kind` counter of `address` an hour; `Some(wait)` when it is then over
/// `allowed`. With the hourly limit off (0), nothing is counted.
async fn bump_address(
    services: &Services,
    kind: &str,
    address: &str,
    factor: u32,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    let limit = services.settings.submissions_per_hour;
    if limit == 0 {
        return Ok(None);
    }
    let key = key(kind, &client_key(address));
    let (count, started) = counters::bump(&services.db, &key, ADDRESS_WINDOW, now).await?;
    Ok((count > (limit * factor) as i32).then(|| wait_until(started, ADDRESS_WINDOW, now)))
}

/// Counts one request that reaches intake against `address`; `Some(wait)` when that is over
/// the hourly limit.
pub async fn count_intake(
    services: &Services,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    bump_address(services, INTAKE, address, 1, now).await
}

/// Counts an upload against `address` when it starts (one that never finishes counts too);
/// `Some(wait)` when the address started more than its uploads an hour.
pub async fn count_upload_start(
    services: &Services,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    bump_address(services, STARTED, address, REFUSED_FACTOR, now).await
}

/// Counts one refused submission against `address` (checked before the next body is read).
pub async fn count_refused(
    services: &Services,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    bump_address(services, REFUSED, address, REFUSED_FACTOR, now)
        .await
        .map(|_| ())
}

/// Whether `address` is already at its limit of requests reaching intake or of refused
/// submissions: checked before a body is read.
pub async fn address_over_limit(
    services: &Services,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    let limit = services.settings.submissions_per_hour;
    let client = client_key(address);
    let mut wait = None;
    for (kind, allowed) in [(INTAKE, limit), (REFUSED, limit * REFUSED_FACTOR)] {
        let full = at_limit(services, &key(kind, &client), ADDRESS_WINDOW, allowed, now).await?;
        wait = wait.max(full);
    }
    Ok(wait)
}

/// `Some(wait)` when the count of `key` in its window has reached `allowed`; never while
/// the limit is off (0).
async fn at_limit(
    services: &Services,
    key: &str,
    window: Duration,
    allowed: u32,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    if allowed == 0 {
        return Ok(None);
    }
    let (count, started) = counters::current(&services.db, key, window, now).await?;
    Ok((count >= allowed as i32).then(|| wait_until(started, window, now)))
}

/// The other requests for `domain` in the day before `request` (made at `at`), when they
/// are as many as its daily budget or more: the reviewers are told.
pub async fn past_domain_budget(
    db: &impl ConnectionTrait,
    settings: &Settings,
    domain: &str,
    request: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<u64>, DbErr> {
    let budget = u64::from(settings.submissions_per_domain_per_day);
    if budget == 0 {
        return Ok(None);
    }
    let before = request::Entity::find()
        .filter(request::Column::Domain.eq(domain))
        .filter(request::Column::Id.ne(request))
        .filter(request::Column::CreatedAt.gte(at - DOMAIN_WINDOW))
        .filter(request::Column::CreatedAt.lt(at))
        .count(db)
        .await?;
    Ok((before >= budget).then_some(before))
}
