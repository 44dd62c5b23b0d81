//! Failed-login counters in the database, so that every instance sees the same counts.

use chrono::{DateTime, Duration, Utc};
use entities::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

#[derive(Clone, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed per account within `window` before it is locked.
    pub per_account: i32,
    /// Failures allowed per client address within `window` before it is locked.
    pub per_address: i32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct LoginThrottle {
    pub policy: ThrottlePolicy,
}

impl LoginThrottle {
    fn limit_for(&self, key: &str) -> i32 {
        if key.starts_with("account:") {
            self.policy.per_account
        } else {
            self.policy.per_address
        }
    }

    /// The latest lock among `keys` still in force, if any.
    pub async fn locked_until(
        &self,
        db: &impl ConnectionTrait,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DbErr> {
        let rows = login_throttle::Entity::find()
            .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.locked_until)
            .filter(|until| *until > now)
            .max())
    }

    pub async fn record_failure(
        &self,
        db: &impl ConnectionTrait,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        for key in keys {
            login_throttle::Entity::insert(login_throttle::ActiveModel {
                key: Set(key.clone()),
                failures: Set(0),
                window_started_at: Set(now),
                locked_until: Set(None),
            })
            .on_conflict(
                OnConflict::column(login_throttle::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
            // A window that has run out starts again.
            login_throttle::Entity::update_many()
                .col_expr(login_throttle::Column::Failures, Expr::value(0))
                .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
                .filter(login_throttle::Column::Key.eq(key.as_str()))
                .filter(login_throttle::Column::WindowStartedAt.lt(now - self.policy.window))
                .exec(db)
                .await?;
            login_throttle::Entity::update_many()
                .col_expr(
                    login_throttle::Column::Failures,
                    Expr::col(login_throttle::Column::Failures).add(1),
                )
                .filter(login_throttle::Column::Key.eq(key.as_str()))
                .exec(db)
                .await?;
            login_throttle::Entity::update_many()
                .col_expr(
                    login_throttle::Column::LockedUntil,
                    Expr::value(now + self.policy.lockout),
                )
                .filter(login_throttle::Column::Key.eq(key.as_str()))
                .filter(login_throttle::Column::Failures.gte(self.limit_for(key)))
                .exec(db)
                .await?;
        }
        Ok(())
    }

    pub async fn clear(&self, db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
        login_throttle::Entity::delete_by_id(key.to_owned())
            .exec(db)
            .await
            .map(|_| ())
    }
}
