//! Attempt counters shared by every instance (sign-ins, submissions): one row per key with
//! a count and the start of its window, bumped by one atomic upsert that returns the new
//! count. Keys are SHA-256 digests of what they count, never names or addresses.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entities::login_throttle as counter;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::platform::crypto::sha256;

/// The stored key for `value` counted as `kind`.
pub fn key(kind: &str, value: &str) -> String {
    let digest = sha256(format!("{kind}\0{value}").as_bytes());
    crate::platform::crypto::hex(&digest)
}

/// The part of an address that identifies one client: the whole IPv4 address, or the /64
/// of an IPv6 one (a single host is routinely given a whole /64).
pub fn client_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// Adds one to `key` (a new window starts when the old one is older than `window`) and
/// returns the new count with its window's start, in one statement.
pub async fn bump(
    db: &impl ConnectionTrait,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<(i32, DateTime<Utc>), DbErr> {
    let expired = Expr::col((counter::Entity, counter::Column::WindowStartedAt)).lt(now - window);
    let count = Expr::case(expired.clone(), 1)
        .finally(Expr::col((counter::Entity, counter::Column::Failures)).add(1));
    let started = Expr::case(expired, now).finally(Expr::col((
        counter::Entity,
        counter::Column::WindowStartedAt,
    )));
    let row = counter::Entity::insert(counter::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(1),
        window_started_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict(
        OnConflict::column(counter::Column::Key)
            .value(counter::Column::Failures, count)
            .value(counter::Column::WindowStartedAt, started)
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    Ok((row.failures, row.window_started_at))
}

/// The count of `key` in its current window, with the window's start (0 when none).
pub async fn current(
    db: &impl ConnectionTrait,
    key: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<(i32, DateTime<Utc>), DbErr> {
    Ok(counter::Entity::find_by_id(key.to_owned())
        .filter(counter::Column::WindowStartedAt.gte(now - window))
        .one(db)
        .await?
        .map_or((0, now), |row| (row.failures, row.window_started_at)))
}

pub async fn forget(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    counter::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes counters whose window started before `cutoff`.
pub async fn purge(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(counter::Entity::delete_many()
        .filter(counter::Column::WindowStartedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_ne!(client_key("2001:db8:1:3::1"), client_key("2001:db8:1:2::1"));
        assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn stored_keys_reveal_nothing_and_stay_short() {
        assert_eq!(key("account", &"x".repeat(20_000_000)).len(), 64);
        assert!(!key("account", "alice").contains("alice"));
        assert_ne!(key("account", "alice"), key("address", "alice"));
    }
}
