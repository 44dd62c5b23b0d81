//! Sign-in attempt counters in the database, so that every instance sees the same counts.
//!
//! Each attempt is counted *before* the password is checked, with one atomic upsert whose
//! returned value decides: of twenty parallel guesses, at most the limit get a check.
//! An account is locked per client address (an attacker cannot lock a reviewer out from
//! elsewhere); account-wide, failures only slow every attempt down with a growing delay.
//! Keys are stored as SHA-256 digests, never as the names and addresses themselves.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entities::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::crypto::sha256;

#[derive(Clone, Debug)]
pub struct ThrottlePolicy {
    /// Attempts allowed per account and client address within `window`.
    pub per_account_and_address: i32,
    /// Attempts allowed per client address (any account) within `window`.
    pub per_address: i32,
    /// Account-wide failures after which every attempt on the account is slowed down.
    pub slow_down_after: i32,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_account_and_address: 5,
            per_address: 20,
            slow_down_after: 5,
            window: Duration::minutes(15),
        }
    }
}

/// The counters, and the bound on how many password checks run at once.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    pub policy: ThrottlePolicy,
    /// Argon2 takes tens of milliseconds of CPU: checks run off the async workers, a few at
    /// a time.
    pub checks: Arc<tokio::sync::Semaphore>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            policy: ThrottlePolicy::default(),
            checks: Arc::new(tokio::sync::Semaphore::new(cores)),
        }
    }
}

/// What the counters say about an attempt that has just been counted.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, after waiting this long (zero unless the account is under attack).
    Check { delay: std::time::Duration },
    /// Refuse without checking; the window ends at this time.
    Refuse { until: DateTime<Utc> },
}

/// The part of an address that identifies one client: the whole IPv4 address, or the /64
/// of an IPv6 one (a single host is routinely given a whole /64).
pub fn client_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(address.to_owned(), |v4| v4.to_string()),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

fn stored_key(kind: &str, value: &str) -> String {
    let digest = sha256(format!("{kind}\0{value}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl LoginThrottle {
    /// Counts one attempt of `name` from `address` and says whether to check it.
    pub async fn attempt(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, DbErr> {
        let name = name.to_lowercase();
        let client = client_key(address);
        let pair = self
            .count(
                db,
                &stored_key("account+address", &format!("{name}\0{client}")),
                now,
            )
            .await?;
        let from_address = self.count(db, &stored_key("address", &client), now).await?;
        let limits = [
            (pair, self.policy.per_account_and_address),
            (from_address, self.policy.per_address),
        ];
        if let Some(until) = limits
            .iter()
            .filter(|((count, _), limit)| count > limit)
            .map(|((_, started), _)| *started + self.policy.window)
            .max()
        {
            return Ok(Verdict::Refuse { until });
        }
        let failures = self.current(db, &stored_key("account", &name), now).await?;
        let over = failures - self.policy.slow_down_after;
        let delay = if over > 0 {
            std::time::Duration::from_millis(Ord::min(500 * over as u64, 5_000))
        } else {
            std::time::Duration::ZERO
        };
        Ok(Verdict::Check { delay })
    }

    /// After a failed check: counts it against the account as a whole.
    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        self.count(db, &stored_key("account", &name.to_lowercase()), now)
            .await
            .map(|_| ())
    }

    /// After a successful sign-in: this client's attempts on this account start over.
    pub async fn succeeded(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
        address: &str,
    ) -> Result<(), DbErr> {
        let pair = format!("{}\0{}", name.to_lowercase(), client_key(address));
        login_throttle::Entity::delete_by_id(stored_key("account+address", &pair))
            .exec(db)
            .await
            .map(|_| ())
    }

    /// Adds one to `key` (starting a new window when the old one has run out) and returns
    /// the new count with its window's start, in one statement.
    async fn count(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(i32, DateTime<Utc>), DbErr> {
        let expired = Expr::col((
            login_throttle::Entity,
            login_throttle::Column::WindowStartedAt,
        ))
        .lt(now - self.policy.window);
        let failures = Expr::case(expired.clone(), 1)
            .finally(Expr::col((login_throttle::Entity, login_throttle::Column::Failures)).add(1));
        let started = Expr::case(expired, now).finally(Expr::col((
            login_throttle::Entity,
            login_throttle::Column::WindowStartedAt,
        )));
        let row = login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(key.to_owned()),
            failures: Set(1),
            window_started_at: Set(now),
            locked_until: Set(None),
        })
        .on_conflict(
            OnConflict::column(login_throttle::Column::Key)
                .value(login_throttle::Column::Failures, failures)
                .value(login_throttle::Column::WindowStartedAt, started)
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
        Ok((row.failures, row.window_started_at))
    }

    /// The count of `key` in its current window (0 when there is none).
    async fn current(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<i32, DbErr> {
        Ok(login_throttle::Entity::find_by_id(key.to_owned())
            .filter(login_throttle::Column::WindowStartedAt.gte(now - self.policy.window))
            .one(db)
            .await?
            .map_or(0, |row| row.failures))
    }

    /// Removes counters whose window ended long ago.
    pub async fn purge(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
        Ok(login_throttle::Entity::delete_many()
            .filter(login_throttle::Column::WindowStartedAt.lt(now - self.policy.window))
            .exec(db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_ne!(client_key("2001:db8:1:3::1"), client_key("2001:db8:1:2::1"));
        assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn stored_keys_reveal_nothing_and_stay_short() {
        let key = stored_key("account", &"x".repeat(20_000_000));
        assert_eq!(key.len(), 64);
        assert!(!stored_key("account", "alice").contains("alice"));
    }
}
