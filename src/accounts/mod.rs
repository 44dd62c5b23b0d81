//! Reviewer accounts, server-side sessions, login throttling and the first-admin setup link.

mod links;
pub mod passkeys;
pub mod password;
pub mod sessions;
mod throttle;

use chrono::{DateTime, Duration, Utc};
use entities::{reviewer, session, setup_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

pub use links::{
    complete_password_link, enrolment_link_holder, invite_reviewer, issue_enrolment_link,
    password_link_holder, reset_password, set_disabled, LinkPurpose, Reset, PASSWORD_LINK_VALIDITY,
};
pub use password::PasswordError;
pub use throttle::{LoginThrottle, ThrottlePolicy, Verdict};

use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::{FormSecret, PasswordLinkToken, SessionToken};
use sessions::{create_session_with, logout, revoke_all_sessions, ActiveSession};

pub const SESSION_IDLE: Duration = Duration::minutes(30);
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
pub const SETUP_LINK_VALIDITY: Duration = Duration::hours(1);
/// Longest reviewer name.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest password a form may carry, in bytes (128 characters of up to 4 bytes).
pub const MAX_PASSWORD_BYTES: usize = password::MAX_CHARS * 4;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a reviewer named “{0}” already exists")]
    NameTaken(String),
    #[error("“{name}” looks like the existing reviewer “{existing}”")]
    NameLooksLike { name: String, existing: String },
    #[error("no reviewer is named “{0}”")]
    UnknownReviewer(String),
    #[error("a reviewer name has 1 to 64 letters, digits, dots, dashes or underscores")]
    InvalidName,
    #[error("“{0}” is not an email address")]
    InvalidEmail(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

pub fn check_name(name: &str) -> Result<(), AccountError> {
    let valid = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    valid.then_some(()).ok_or(AccountError::InvalidName)
}

/// What a name looks like to a reader: letters from other scripts written as the Latin ones
/// they look like (Cyrillic `а` as `a`), case folded, punctuation dropped (`a.lice`, `alice_`
/// read as `alice`), and the shapes that pass for each other (`0`/`o`, `1`/`l`/`I`, `rn`/`m`)
/// made one. Two names with one skeleton are one name to a reviewer reading the audit trail.
pub fn skeleton(name: &str) -> String {
    deunicode::deunicode(name)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '|')
        .collect::<String>()
        .replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            other => other,
        })
        .collect()
}

/// Refuses a name that is, or looks like, an existing reviewer's.
async fn check_distinct(db: &impl ConnectionTrait, name: &str) -> Result<(), AccountError> {
    let wanted = skeleton(name);
    for existing in list_reviewers(db).await? {
        if existing.name == name {
            return Err(AccountError::NameTaken(name.to_owned()));
        }
        if skeleton(&existing.name) == wanted {
            return Err(AccountError::NameLooksLike {
                name: name.to_owned(),
                existing: existing.name,
            });
        }
    }
    Ok(())
}

pub async fn add_reviewer(
    db: &impl ConnectionTrait,
    name: &str,
    password: &str,
    is_admin: bool,
) -> Result<reviewer::Model, AccountError> {
    password::check_length(password)?;
    let hash = password::hash(password)?;
    insert_reviewer(db, name, hash, is_admin, "system").await
}

async fn insert_reviewer(
    db: &impl ConnectionTrait,
    name: &str,
    password_hash: String,
    is_admin: bool,
    actor: &str,
) -> Result<reviewer::Model, AccountError> {
    check_name(name)?;
    check_distinct(db, name).await?;
    let now = Utc::now();
    let created = reviewer::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash),
        is_admin: Set(is_admin),
        disabled: Set(false),
        created_at: Set(now),
        password_changed_at: Set(now),
        email: Set(None),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        Actor::Reviewer(actor),
        Action::ReviewerAdded,
        None,
        Some(name),
    )
    .await?;
    Ok(created)
}

/// Sets the address a reviewer is told of changes to their passkeys at.
pub async fn set_email(
    db: &impl ConnectionTrait,
    name: &str,
    email: &str,
) -> Result<(), AccountError> {
    let email = email.trim();
    if !crate::registry::domains::is_plausible_email(email) {
        return Err(AccountError::InvalidEmail(email.to_owned()));
    }
    let mut active = existing(db, name).await?.into_active_model();
    active.email = Set(Some(email.to_owned()));
    active.update(db).await?;
    Ok(())
}

/// The reviewer named `name`, or the error that says there is none.
async fn existing(db: &impl ConnectionTrait, name: &str) -> Result<reviewer::Model, AccountError> {
    find_by_name(db, name)
        .await?
        .ok_or_else(|| AccountError::UnknownReviewer(name.to_owned()))
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<reviewer::Model>, DbErr> {
    reviewer::Entity::find()
        .filter(reviewer::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn list_reviewers(db: &impl ConnectionTrait) -> Result<Vec<reviewer::Model>, DbErr> {
    reviewer::Entity::find()
        .order_by_asc(reviewer::Column::Name)
        .all(db)
        .await
}

/// Disables an account and ends all its sessions.
pub async fn disable_reviewer(db: &impl ConnectionTrait, name: &str) -> Result<(), AccountError> {
    set_disabled(db, name, true, "system").await
}

/// Sets a new password and ends all sessions of the account.
pub async fn change_password(
    db: &impl ConnectionTrait,
    name: &str,
    new_password: &str,
) -> Result<(), AccountError> {
    let found = existing(db, name).await?;
    let id = found.id;
    let mut active = found.into_active_model();
    active.password_hash = Set(password::hash(new_password)?);
    active.password_changed_at = Set(Utc::now());
    active.update(db).await?;
    revoke_all_sessions(db, id).await?;
    audit::record(
        db,
        Actor::Reviewer(name),
        Action::PasswordChanged,
        None,
        None,
    )
    .await?;
    Ok(())
}

pub enum LoginOutcome {
    Success {
        reviewer: reviewer::Model,
        session_id: SessionToken,
    },
    /// Wrong name or password, or a disabled account: one answer for all.
    Refused,
    Throttled {
        retry_after_minutes: i64,
    },
}

/// Checks a login, throttled per account and client address (see `throttle`). The
/// password check runs on a blocking thread, a few at a time.
pub async fn login(
    db: &impl ConnectionTrait,
    throttle: &LoginThrottle,
    name: &str,
    password: &str,
    client_addr: &str,
    passkeys_required: bool,
) -> Result<LoginOutcome, AccountError> {
    let now = Utc::now();
    match throttle.attempt(db, name, client_addr, now).await? {
        Verdict::Refuse { until } => {
            // One line per account, address and window: a flood of throttled attempts must
            // not push the real events off the audit page.
            if throttle.first_refusal(db, name, client_addr, now).await? {
                audit::record(
                    db,
                    Actor::Reviewer(name),
                    Action::LoginThrottled,
                    None,
                    Some(client_addr),
                )
                .await?;
            }
            return Ok(LoginOutcome::Throttled {
                retry_after_minutes: (until - now).num_minutes() + 1,
            });
        }
        Verdict::Check { delay } => tokio::time::sleep(delay).await,
    }
    let found = find_by_name(db, name).await?;
    let stored = found
        .as_ref()
        .map_or(password::decoy_hash(), |r| r.password_hash.as_str())
        .to_owned();
    let (matches, rehash) = verify_off_thread(throttle, password, stored).await?;
    let reviewer = match found {
        Some(reviewer) if matches && !reviewer.disabled => reviewer,
        _ => {
            throttle.failed(db, name, now).await?;
            audit::record(
                db,
                Actor::Reviewer(name),
                Action::LoginFailed,
                None,
                Some(client_addr),
            )
            .await?;
            crate::platform::meters::failed_sign_in();
            return Ok(LoginOutcome::Refused);
        }
    };
    if passkeys_required {
        // Answered, counted and throttled as a wrong password: the answer must not tell
        // whoever tries passwords that this one was right.
        throttle.failed(db, name, now).await?;
        audit::record(
            db,
            Actor::Reviewer(&reviewer.name),
            Action::PasskeyRefused,
            None,
            Some("a password alone does not sign in where passkeys are required"),
        )
        .await?;
        crate::platform::meters::failed_sign_in();
        return Ok(LoginOutcome::Refused);
    }
    throttle.succeeded(db, name, client_addr).await?;
    let reviewer = if rehash {
        let mut active = reviewer.into_active_model();
        active.password_hash = Set(password::hash(password)?);
        active.update(db).await?
    } else {
        reviewer
    };
    let session_id = create_session_with(db, reviewer.id, None, now).await?;
    audit::record(
        db,
        Actor::Reviewer(&reviewer.name),
        Action::Login,
        None,
        Some(client_addr),
    )
    .await?;
    Ok(LoginOutcome::Success {
        reviewer,
        session_id,
    })
}

/// Checks a password against a stored hash on a blocking thread, a few at a time: Argon2
/// takes tens of milliseconds of CPU that must not stall the async workers.
async fn verify_off_thread(
    throttle: &LoginThrottle,
    password: &str,
    stored: String,
) -> Result<(bool, bool), AccountError> {
    let _permit = throttle
        .checks
        .acquire()
        .await
        .map_err(|_| PasswordError::Hashing)?;
    let password = zeroize::Zeroizing::new(password.to_owned());
    Ok(
        tokio::task::spawn_blocking(move || password::verify(&password, &stored))
            .await
            .map_err(|_| PasswordError::Hashing)?,
    )
}

/// Wrong current passwords a session may give before it is ended.
pub const CURRENT_PASSWORD_TRIES: i32 = 3;

pub enum PasswordChange {
    /// Changed; every session ended, this one too.
    Changed,
    WrongCurrent,
    /// Too many wrong current passwords (or the sign-in throttle refused): the session is
    /// ended and the reviewer signs in again.
    SignedOut,
}

/// What checking a session's current password found.
pub enum CurrentPassword {
    Right,
    Wrong,
    /// Too many wrong ones (or the sign-in throttle refused): the session is ended.
    SignedOut,
}

/// Checks the session's reviewer's current password before a change to the account,
/// counted like sign-ins (per account and address, in the database) and ended after
/// [`CURRENT_PASSWORD_TRIES`] wrong ones in a session: a stolen session cannot guess the
/// password that protects the account. A wrong one is recorded as `refused`.
pub async fn confirm_current_password(
    db: &impl ConnectionTrait,
    throttle: &LoginThrottle,
    session: &ActiveSession,
    current: &str,
    client_addr: &str,
    refused: Action,
) -> Result<CurrentPassword, AccountError> {
    let me = &session.reviewer;
    let now = Utc::now();
    if let Verdict::Refuse { .. } = throttle.attempt(db, &me.name, client_addr, now).await? {
        logout(db, session).await?;
        return Ok(CurrentPassword::SignedOut);
    }
    let (current_ok, _) = verify_off_thread(throttle, current, me.password_hash.clone()).await?;
    if !current_ok {
        throttle.failed(db, &me.name, now).await?;
        audit::record(db, Actor::Reviewer(&me.name), refused, None, None).await?;
        let session_key = crate::platform::counters::key(
            "current-password",
            &crate::platform::crypto::hex(&session.id_hash),
        );
        let (wrong, _) =
            crate::platform::counters::bump(db, &session_key, throttle.policy.window, now).await?;
        if wrong >= CURRENT_PASSWORD_TRIES {
            logout(db, session).await?;
            return Ok(CurrentPassword::SignedOut);
        }
        return Ok(CurrentPassword::Wrong);
    }
    throttle.succeeded(db, &me.name, client_addr).await?;
    Ok(CurrentPassword::Right)
}

/// Changes one's own password after checking the current one.
pub async fn change_own_password(
    db: &impl ConnectionTrait,
    throttle: &LoginThrottle,
    session: &ActiveSession,
    current: &str,
    new_password: &str,
    client_addr: &str,
) -> Result<PasswordChange, AccountError> {
    password::check_length(new_password)?;
    let refused = Action::PasswordChangeRefused;
    Ok(
        match confirm_current_password(db, throttle, session, current, client_addr, refused).await?
        {
            CurrentPassword::Right => {
                change_password(db, &session.reviewer.name, new_password).await?;
                PasswordChange::Changed
            }
            CurrentPassword::Wrong => PasswordChange::WrongCurrent,
            CurrentPassword::SignedOut => PasswordChange::SignedOut,
        },
    )
}

/// Marks a one-time link used, with a guarded update: of two concurrent uses, one wins.
async fn use_link(db: &impl ConnectionTrait, token: &PasswordLinkToken) -> Result<bool, DbErr> {
    let used = setup_token::Entity::update_many()
        .col_expr(
            setup_token::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(setup_token::Column::TokenHash.eq(token.hash().to_vec()))
        .filter(setup_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(used.rows_affected == 1)
}

/// On a start with no reviewer at all: a fresh one-time link to create the first admin.
pub async fn setup_token_if_needed(
    db: &impl ConnectionTrait,
) -> Result<Option<PasswordLinkToken>, DbErr> {
    if reviewer::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let token = PasswordLinkToken::generate().map_err(|e| DbErr::Custom(e.to_string()))?;
    setup_token::ActiveModel {
        token_hash: Set(token.hash().to_vec()),
        expires_at: Set(Utc::now() + SETUP_LINK_VALIDITY),
        used_at: Set(None),
        reviewer_id: Set(None),
        purpose: Set(LinkPurpose::Password.as_str().to_owned()),
    }
    .insert(db)
    .await?;
    Ok(Some(token))
}

/// Whether a setup link is still usable: known, unused, unexpired, and no reviewer exists.
pub async fn setup_link_valid(
    db: &impl ConnectionTrait,
    token: &PasswordLinkToken,
) -> Result<bool, DbErr> {
    let found = setup_token::Entity::find_by_id(token.hash().to_vec())
        .one(db)
        .await?;
    let fresh = found.is_some_and(|t| {
        t.used_at.is_none() && t.expires_at > Utc::now() && t.reviewer_id.is_none()
    });
    Ok(fresh && reviewer::Entity::find().count(db).await? == 0)
}

/// Uses a setup link to create the first admin. Works once: the token is marked used with
/// a guarded update, so two concurrent uses create one admin. The admin gets a passkey
/// enrolment link to go on with.
pub async fn complete_setup(
    db: &sea_orm::DatabaseConnection,
    token: &PasswordLinkToken,
    name: &str,
    password: &str,
) -> Result<Option<(reviewer::Model, PasswordLinkToken)>, AccountError> {
    check_name(name)?;
    password::check_length(password)?;
    let txn = crate::platform::db::begin_writing(db).await?;
    if !setup_link_valid(&txn, token).await? {
        return Ok(None);
    }
    if !use_link(&txn, token).await? {
        return Ok(None);
    }
    let admin = add_reviewer(&txn, name, password, true).await?;
    let enrolment = links::issue_link(&txn, admin.id, LinkPurpose::Passkey).await?;
    audit::record(&txn, Actor::Reviewer(name), Action::Setup, None, None).await?;
    txn.commit().await?;
    Ok(Some((admin, enrolment)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_share_a_skeleton() {
        let admin = skeleton("admin");
        for look_alike in [
            "аdmin",
            "ADMIN",
            "Admin",
            "adm1n",
            "admín",
            "ａｄｍｉｎ",
            "adrnin",
            "admin.",
            "a.dmin",
            "ad_min",
            "ad-min",
            "_admin_",
            "ad.r.n.in",
        ] {
            assert_eq!(skeleton(look_alike), admin, "{look_alike}");
        }
        for different in ["admins", "bob", "a.dmins"] {
            assert_ne!(skeleton(different), admin, "{different}");
        }
    }
}
