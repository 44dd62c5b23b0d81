//! Reviewers' sessions, kept on the server: made at sign-in, loaded for each request, ended
//! by signing out, by a password change and when they grow old.

use super::*;

pub(super) async fn create_session_with(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
    passkey_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<SessionToken, AccountError> {
    let id = SessionToken::generate().map_err(|_| PasswordError::Hashing)?;
    let csrf = FormSecret::generate().map_err(|_| PasswordError::Hashing)?;
    session::ActiveModel {
        id_hash: Set(id.hash().to_vec()),
        reviewer_id: Set(reviewer_id),
        csrf_token: Set(csrf.expose().to_owned()),
        created_at: Set(now),
        last_seen_at: Set(now),
        passkey_at: Set(passkey_id.map(|_| now)),
        passkey_id: Set(passkey_id),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A live session and its reviewer.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub reviewer: reviewer::Model,
    pub csrf_token: String,
    pub(super) id_hash: Vec<u8>,
    /// When the session last proved itself with a passkey (sign-in or step-up).
    pub passkey_at: Option<DateTime<Utc>>,
    /// How many passkeys the reviewer has.
    pub passkeys: u64,
}

/// The session for a cookie value, if it is live: not expired (idle or absolute), its
/// account enabled, and started after the last password change. Touches it.
pub async fn load_session(
    db: &impl ConnectionTrait,
    cookie_value: &str,
    now: DateTime<Utc>,
) -> Result<Option<ActiveSession>, DbErr> {
    let Some(id) = SessionToken::parse(cookie_value) else {
        return Ok(None);
    };
    let id_hash = id.hash().to_vec();
    let Some(found) = session::Entity::find_by_id(id_hash.clone()).one(db).await? else {
        return Ok(None);
    };
    let reviewer = reviewer::Entity::find_by_id(found.reviewer_id)
        .one(db)
        .await?;
    let live = reviewer.as_ref().is_some_and(|r| {
        !r.disabled
            && found.created_at >= r.password_changed_at
            && now - found.created_at < SESSION_ABSOLUTE
            && now - found.last_seen_at < SESSION_IDLE
    });
    let Some(reviewer) = reviewer.filter(|_| live) else {
        session::Entity::delete_by_id(id_hash).exec(db).await?;
        return Ok(None);
    };
    let passkeys = passkeys::count(db, reviewer.id).await?;
    let loaded = ActiveSession {
        reviewer,
        csrf_token: found.csrf_token.clone(),
        id_hash,
        passkey_at: found.passkey_at,
        passkeys,
    };
    if now - found.last_seen_at > Duration::seconds(30) {
        let mut active = found.into_active_model();
        active.last_seen_at = Set(now);
        active.update(db).await?;
    }
    Ok(Some(loaded))
}

/// Deletes sessions past their idle or absolute limit.
pub async fn purge_sessions(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(session::Column::LastSeenAt.lt(now - SESSION_IDLE))
                .add(session::Column::CreatedAt.lt(now - SESSION_ABSOLUTE)),
        )
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn logout(db: &impl ConnectionTrait, session: &ActiveSession) -> Result<(), DbErr> {
    session::Entity::delete_by_id(session.id_hash.clone())
        .exec(db)
        .await?;
    audit::record(
        db,
        Actor::Reviewer(&session.reviewer.name),
        Action::Logout,
        None,
        None,
    )
    .await
}

pub async fn revoke_all_sessions(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::ReviewerId.eq(reviewer_id))
        .exec(db)
        .await
        .map(|_| ())
}
