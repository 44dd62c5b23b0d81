//! Sign-in attempt counters in the database, so that every instance sees the same counts.
//!
//! Each attempt is counted *before* the password is checked, with one atomic upsert whose
//! returned value decides: of twenty parallel guesses, at most the limit get a check.
//! An account is locked per client address (an attacker cannot lock a reviewer out from
//! elsewhere); account-wide, failures only slow every attempt down with a growing delay.
//! Keys are stored as SHA-256 digests, never as the names and addresses themselves.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::platform::counters::{self, client_key, key};

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
        let window = self.policy.window;
        let pair_key = key("account+address", &format!("{name}\0{client}"));
        let pair = counters::bump(db, &pair_key, window, now).await?;
        let from_address = counters::bump(db, &key("address", &client), window, now).await?;
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
        let (failures, _) = counters::current(db, &key("account", &name), window, now).await?;
        let over = failures - self.policy.slow_down_after;
        let delay = if over > 0 {
            std::time::Duration::from_millis(Ord::min(500 * over as u64, 5_000))
        } else {
            std::time::Duration::ZERO
        };
        Ok(Verdict::Check { delay })
    }

    /// Whether this is the first refused attempt of `name` from `address` in its window
    /// (counted in the database, so that instances agree): only that one is audited.
    pub async fn first_refusal(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let pair = format!("{}\0{}", name.to_lowercase(), client_key(address));
        let (count, _) =
            counters::bump(db, &key("refusal-audited", &pair), self.policy.window, now).await?;
        Ok(count == 1)
    }

    /// After a failed check: counts it against the account as a whole.
    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let account = key("account", &name.to_lowercase());
        counters::bump(db, &account, self.policy.window, now)
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
        counters::forget(db, &key("account+address", &pair)).await
    }
}
