//! Reviewer management in the browser: invitations and password resets through one-time
//! links (like the first-admin link), disabling and re-enabling, and changing one's own
//! password. An admin never chooses or sees another reviewer's password.

use chrono::{Duration, Utc};
use entities::{reviewer, setup_token};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use super::sessions::revoke_all_sessions;
use super::{existing, insert_reviewer, password, AccountError};
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::crypto::PasswordLinkToken;

/// How long an invitation or reset link works.
pub const PASSWORD_LINK_VALIDITY: Duration = Duration::hours(24);

/// A stored hash no password matches: the account cannot sign in until its link is used.
const NO_PASSWORD: &str = "!";

/// What a one-time link does for the reviewer it was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Sets the password (an invitation or a reset).
    Password,
    /// Enrols a passkey: the only way to an account's first passkey where passkeys are
    /// required, since a password (or a stolen session) must not be enough to add one.
    Passkey,
}

impl LinkPurpose {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Password => "password",
            LinkPurpose::Passkey => "passkey",
        }
    }
}

/// Voids every unused link of a reviewer (of one purpose, or all): a newer link, its use, or
/// disabling the account leaves no older link working.
async fn void_links(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
    purpose: Option<LinkPurpose>,
) -> Result<(), DbErr> {
    let mut voided = setup_token::Entity::update_many()
        .col_expr(setup_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(setup_token::Column::ReviewerId.eq(reviewer_id))
        .filter(setup_token::Column::UsedAt.is_null());
    if let Some(purpose) = purpose {
        voided = voided.filter(setup_token::Column::Purpose.eq(purpose.as_str()));
    }
    voided.exec(db).await.map(|_| ())
}

/// A new one-time link for a reviewer; their earlier links of that purpose stop working.
pub(super) async fn issue_link(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
    purpose: LinkPurpose,
) -> Result<PasswordLinkToken, AccountError> {
    void_links(db, reviewer_id, Some(purpose)).await?;
    let token = PasswordLinkToken::generate().map_err(|_| password::PasswordError::Hashing)?;
    setup_token::ActiveModel {
        token_hash: Set(token.hash().to_vec()),
        expires_at: Set(Utc::now() + PASSWORD_LINK_VALIDITY),
        used_at: Set(None),
        reviewer_id: Set(Some(reviewer_id)),
        purpose: Set(purpose.as_str().to_owned()),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// A one-time link that enrols a passkey for the reviewer `name` (an admin's, or the
/// operator's, for a reviewer who has none or lost theirs).
pub async fn issue_enrolment_link(
    db: &DatabaseConnection,
    name: &str,
    actor: &str,
) -> Result<PasswordLinkToken, AccountError> {
    let found = existing(db, name).await?;
    if found.disabled {
        return Err(AccountError::UnknownReviewer(name.to_owned()));
    }
    let txn = crate::platform::db::begin_writing(db).await?;
    let token = issue_link(&txn, found.id, LinkPurpose::Passkey).await?;
    audit::record(
        &txn,
        Actor::Reviewer(actor),
        Action::PasskeyLinkIssued,
        None,
        Some(name),
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Adds a reviewer (told of changes to their passkeys at `email`, if given) who sets their
/// own password through the returned one-time link.
pub async fn invite_reviewer(
    db: &DatabaseConnection,
    name: &str,
    email: Option<&str>,
    is_admin: bool,
    actor: &str,
) -> Result<PasswordLinkToken, AccountError> {
    let txn = crate::platform::db::begin_writing(db).await?;
    let created = insert_reviewer(&txn, name, NO_PASSWORD.into(), is_admin, actor).await?;
    if let Some(email) = email {
        super::set_email(&txn, &created.name, email).await?;
    }
    let token = issue_link(&txn, created.id, LinkPurpose::Password).await?;
    txn.commit().await?;
    Ok(token)
}

/// Ends a reviewer's password and sessions at once and returns a one-time link that sets a
/// new one (for a forgotten or possibly known password).
/// A password reset: the one-time link, and how many passkeys it removed.
pub struct Reset {
    pub token: PasswordLinkToken,
    /// The passkeys the reset removed, if any.
    pub passkeys_removed: Option<super::passkeys::PasskeyChange>,
}

pub async fn reset_password(
    db: &DatabaseConnection,
    name: &str,
    actor: &str,
) -> Result<Reset, AccountError> {
    let found = existing(db, name).await?;
    let target = found.clone();
    let txn = crate::platform::db::begin_writing(db).await?;
    let id = found.id;
    let mut active = found.into_active_model();
    active.password_hash = Set(NO_PASSWORD.into());
    active.password_changed_at = Set(Utc::now());
    active.update(&txn).await?;
    revoke_all_sessions(&txn, id).await?;
    // Whoever lost their password may have lost their passkeys with it (or had them
    // taken): the link starts the account afresh.
    let passkeys_removed = super::passkeys::remove_all(&txn, &target, actor).await?;
    let token = issue_link(&txn, id, LinkPurpose::Password).await?;
    audit::record(
        &txn,
        Actor::Reviewer(actor),
        Action::PasswordReset,
        None,
        Some(name),
    )
    .await?;
    txn.commit().await?;
    Ok(Reset {
        token,
        passkeys_removed,
    })
}

/// The reviewer a usable (unused, unexpired) password link is for; none for a disabled one.
pub async fn password_link_holder(
    db: &impl ConnectionTrait,
    token: &PasswordLinkToken,
) -> Result<Option<reviewer::Model>, DbErr> {
    link_holder(db, token, LinkPurpose::Password).await
}

/// The reviewer a usable passkey enrolment link is for; none for a disabled one.
pub async fn enrolment_link_holder(
    db: &impl ConnectionTrait,
    token: &PasswordLinkToken,
) -> Result<Option<reviewer::Model>, DbErr> {
    link_holder(db, token, LinkPurpose::Passkey).await
}

async fn link_holder(
    db: &impl ConnectionTrait,
    token: &PasswordLinkToken,
    purpose: LinkPurpose,
) -> Result<Option<reviewer::Model>, DbErr> {
    let Some(link) = setup_token::Entity::find_by_id(token.hash().to_vec())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let usable =
        link.used_at.is_none() && link.expires_at > Utc::now() && link.purpose == purpose.as_str();
    let Some(reviewer_id) = link.reviewer_id.filter(|_| usable) else {
        return Ok(None);
    };
    Ok(reviewer::Entity::find_by_id(reviewer_id)
        .one(db)
        .await?
        .filter(|r| !r.disabled))
}

/// Sets the password of the link's reviewer. Works once (a guarded update marks the link
/// used); ends the reviewer's sessions. The reviewer gets a passkey enrolment link in
/// exchange, for the same person to go on with.
pub async fn complete_password_link(
    db: &DatabaseConnection,
    token: &PasswordLinkToken,
    new_password: &str,
) -> Result<Option<(reviewer::Model, PasswordLinkToken)>, AccountError> {
    password::check_length(new_password)?;
    let hash = password::hash(new_password)?;
    let txn = crate::platform::db::begin_writing(db).await?;
    let Some(holder) = password_link_holder(&txn, token).await? else {
        return Ok(None);
    };
    if !super::use_link(&txn, token).await? {
        return Ok(None);
    }
    void_links(&txn, holder.id, Some(LinkPurpose::Password)).await?;
    let enrolment = issue_link(&txn, holder.id, LinkPurpose::Passkey).await?;
    let name = holder.name.clone();
    let id = holder.id;
    let mut active = holder.into_active_model();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    revoke_all_sessions(&txn, id).await?;
    audit::record(
        &txn,
        Actor::Reviewer(&name),
        Action::PasswordChanged,
        None,
        Some("through a one-time link"),
    )
    .await?;
    txn.commit().await?;
    Ok(Some((updated, enrolment)))
}

/// Disables (ending every session) or re-enables an account.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    name: &str,
    disabled: bool,
    actor: &str,
) -> Result<(), AccountError> {
    let found = existing(db, name).await?;
    let id = found.id;
    let mut active = found.into_active_model();
    active.disabled = Set(disabled);
    active.update(db).await?;
    if disabled {
        revoke_all_sessions(db, id).await?;
        void_links(db, id, None).await?;
    }
    let action = if disabled {
        Action::ReviewerDisabled
    } else {
        Action::ReviewerEnabled
    };
    audit::record(db, Actor::Reviewer(actor), action, None, Some(name))
        .await
        .map_err(AccountError::from)
}
