//! Signing in with a passkey (discoverable: no name needed) and the step-up a session makes
//! before giving a domain away, each checked against the ceremony stored for its token.

use super::*;

/// Starts a sign-in with any passkey of this service: the passkey says whose it is.
pub async fn start_sign_in(
    passkeys: &Passkeys,
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Started<RequestChallengeResponse>, PasskeyError> {
    let (mut options, state): (RequestChallengeResponse, DiscoverableAuthentication) = passkeys
        .webauthn
        .start_discoverable_authentication()
        .map_err(PasskeyError::Refused)?;
    // A button press, not the autofill (conditional) flow.
    options.mediation = None;
    let ceremony = store_ceremony(db, Purpose::SignIn, None, &state, now).await?;
    Ok(Started { options, ceremony })
}

/// Finishes a sign-in: the passkey's reviewer gets a new session, already stepped up.
pub async fn finish_sign_in(
    passkeys: &Passkeys,
    db: &impl ConnectionTrait,
    ceremony: &CeremonyToken,
    answer: &str,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<(reviewer::Model, SessionToken), PasskeyError> {
    let state: DiscoverableAuthentication =
        take_ceremony(db, ceremony, Purpose::SignIn, None, now).await?;
    let answer: PublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let (reviewer_id, credential_id) = passkeys
        .webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(|_| PasskeyError::UnknownPasskey)?;
    let (row, mut key) = passkeys_of(db, reviewer_id)
        .await?
        .into_iter()
        .find(|(row, _)| row.credential_id == credential_id)
        .ok_or(PasskeyError::UnknownPasskey)?;
    let me = reviewer::Entity::find_by_id(reviewer_id)
        .one(db)
        .await?
        .ok_or(PasskeyError::UnknownPasskey)?;
    if me.disabled {
        return Err(PasskeyError::Disabled);
    }
    let result = passkeys
        .webauthn
        .finish_discoverable_authentication_v2(&answer, state, &key);
    let result = checked(db, &me, &row, result).await?;
    key.update_credential(&result);
    save_use(db, &row, &key, result.counter(), now).await?;
    let session_id = create_session_with(db, me.id, Some(row.id), now)
        .await
        .map_err(|e| match e {
            crate::accounts::AccountError::Database(e) => PasskeyError::Database(e),
            other => PasskeyError::Setup(other.to_string()),
        })?;
    let detail = format!("{} from {client_addr}", passkey_detail(&row));
    audit::record(
        db,
        Actor::Reviewer(&me.name),
        Action::LoginWithPasskey,
        None,
        Some(&detail),
    )
    .await?;
    Ok((me, session_id))
}

/// Refuses what webauthn-rs refused, naming a counter that went backwards (a cloned
/// passkey, perhaps) in the audit trail.
async fn checked<T>(
    db: &impl ConnectionTrait,
    me: &reviewer::Model,
    row: &passkey::Model,
    result: Result<T, WebauthnError>,
) -> Result<T, PasskeyError> {
    match result {
        Ok(result) => Ok(result),
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let detail = format!(
                "{}: the signature counter went backwards",
                passkey_detail(row)
            );
            audit::record(
                db,
                Actor::Reviewer(&me.name),
                Action::PasskeyRefused,
                None,
                Some(&detail),
            )
            .await?;
            Err(PasskeyError::CounterWentBack)
        }
        Err(other) => Err(PasskeyError::Refused(other)),
    }
}

async fn save_use(
    db: &impl ConnectionTrait,
    row: &passkey::Model,
    key: &Passkey,
    counter: u32,
    now: DateTime<Utc>,
) -> Result<(), PasskeyError> {
    passkey::Entity::update_many()
        .col_expr(
            passkey::Column::Credential,
            Expr::value(serde_json::to_string(key).map_err(|_| PasskeyError::Malformed)?),
        )
        .col_expr(passkey::Column::SignCount, Expr::value(i64::from(counter)))
        .col_expr(passkey::Column::LastUsedAt, Expr::value(Some(now)))
        .filter(passkey::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Starts a step-up: any of the session's reviewer's passkeys, with user verification.
pub async fn start_step_up(
    passkeys: &Passkeys,
    db: &impl ConnectionTrait,
    session: &ActiveSession,
    now: DateTime<Utc>,
) -> Result<Started<RequestChallengeResponse>, PasskeyError> {
    let keys: Vec<Passkey> = passkeys_of(db, session.reviewer.id)
        .await?
        .into_iter()
        .map(|(_, key)| key)
        .collect();
    if keys.is_empty() {
        return Err(PasskeyError::UnknownPasskey);
    }
    let (options, state): (RequestChallengeResponse, PasskeyAuthentication) = passkeys
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(PasskeyError::Refused)?;
    let owner = session_owner(session);
    let ceremony = store_ceremony(db, Purpose::StepUp, owner, &state, now).await?;
    Ok(Started { options, ceremony })
}

/// Finishes a step-up: the session may give domains away for the next five minutes, and the
/// audit trail says with which passkey.
pub async fn finish_step_up(
    passkeys: &Passkeys,
    db: &impl ConnectionTrait,
    session: &ActiveSession,
    ceremony: &CeremonyToken,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<(), PasskeyError> {
    let state: PasskeyAuthentication =
        take_ceremony(db, ceremony, Purpose::StepUp, session_owner(session), now).await?;
    let answer: PublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let me = &session.reviewer;
    let used: &[u8] = answer.get_credential_id();
    let (row, mut key) = passkeys_of(db, me.id)
        .await?
        .into_iter()
        .find(|(row, _)| row.credential_id == used)
        .ok_or(PasskeyError::UnknownPasskey)?;
    let result = passkeys
        .webauthn
        .finish_passkey_authentication(&answer, &state);
    let result = checked(db, me, &row, result).await?;
    if !result.user_verified() {
        return Err(PasskeyError::Refused(WebauthnError::UserNotVerified));
    }
    key.update_credential(&result);
    save_use(db, &row, &key, result.counter(), now).await?;
    session::Entity::update_many()
        .col_expr(session::Column::PasskeyAt, Expr::value(Some(now)))
        .col_expr(session::Column::PasskeyId, Expr::value(Some(row.id)))
        .filter(session::Column::IdHash.eq(session.id_hash.clone()))
        .exec(db)
        .await?;
    audit::record(
        db,
        Actor::Reviewer(&me.name),
        Action::PasskeyStepUp,
        None,
        Some(&passkey_detail(&row)),
    )
    .await?;
    Ok(())
}
