//! Reviewers' passkeys (WebAuthn, through webauthn-rs): adding one, signing in with one
//! (discoverable, no name needed), and the step-up a session makes before giving a domain
//! away. Each ceremony's state stays in the database under the hash of a token the browser
//! holds, is used once, and expires after five minutes.
//!
//! A passkey passes every step-up, so adding one is guarded like what it unlocks: an account
//! that has a passkey adds or removes one only after a fresh step-up with an existing one;
//! its first passkey comes through a one-time enrolment link, or (where passkeys are
//! optional) with the current password typed again. A stolen session alone adds nothing.

use chrono::{DateTime, Duration, Utc};
use entities::{passkey, passkey_ceremony, reviewer, session};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, DerivePartialModel,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Webauthn, WebauthnBuilder, WebauthnError,
};

pub mod sign_in;

use super::sessions::{create_session_with, ActiveSession};
use super::use_link;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::config::review::PasskeyPolicy;
use crate::platform::crypto::{CeremonyToken, PasswordLinkToken, SessionToken};

/// How long a ceremony may take, from the options to the passkey's answer.
pub const CEREMONY_VALIDITY: Duration = Duration::minutes(5);
/// How long a step-up lets a session give domains away.
pub const STEP_UP_VALIDITY: Duration = Duration::minutes(5);
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("this passkey request is unknown, was used already or is older than five minutes")]
    CeremonyGone,
    #[error("the passkey's answer was refused: {0}")]
    Refused(WebauthnError),
    #[error("no reviewer has this passkey")]
    UnknownPasskey,
    #[error("this passkey is registered already")]
    AlreadyRegistered,
    #[error("the passkey's signature counter went backwards: it may have been cloned")]
    CounterWentBack,
    #[error("the reviewer's account is disabled")]
    Disabled,
    #[error("a passkey's name has 1 to 64 characters")]
    InvalidName,
    #[error("the reviewer already has a passkey of this name")]
    NameTaken,
    #[error("adding or removing a passkey needs a fresh step-up with an existing passkey")]
    StepUpNeeded,
    #[error("the first passkey needs the current password typed again")]
    PasswordNeeded,
    #[error("the first passkey comes only through a one-time enrolment link")]
    EnrolmentLinkNeeded,
    #[error("the passkey's answer cannot be read")]
    Malformed,
    #[error("the relying party cannot be set up: {0}")]
    Setup(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// What a ceremony is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Register,
    Enrol,
    SignIn,
    StepUp,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Enrol => "enrol",
            Purpose::SignIn => "sign_in",
            Purpose::StepUp => "step_up",
        }
    }
}

/// The relying party: this service, known to passkeys by its public URL's host (or
/// `localhost` when served on loopback without one).
pub struct Passkeys {
    webauthn: Webauthn,
    pub rp_id: String,
    pub policy: PasskeyPolicy,
}

impl Passkeys {
    pub fn new(public_url: Option<&str>, policy: PasskeyPolicy) -> Result<Self, PasskeyError> {
        let setup = |e: &dyn std::fmt::Display| PasskeyError::Setup(e.to_string());
        let origin = Url::parse(public_url.unwrap_or("http://localhost")).map_err(|e| setup(&e))?;
        let rp_id = origin
            .host_str()
            .ok_or_else(|| PasskeyError::Setup("the public URL has no host".into()))?
            .to_owned();
        let builder = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|e| setup(&e))?
            .rp_name("Transfer Desk")
            // On loopback the port is whatever the service was given.
            .allow_any_port(public_url.is_none());
        let webauthn = builder.build().map_err(|e| setup(&e))?;
        Ok(Passkeys {
            webauthn,
            rp_id,
            policy,
        })
    }
}

/// A ceremony's first half: the options for `navigator.credentials`, and the token that
/// finds its state again.
pub struct Started<T> {
    pub options: T,
    pub ceremony: CeremonyToken,
}

/// A passkey as its owner sees it in the list (its credential is not read).
#[derive(Debug, serde::Serialize, DerivePartialModel)]
#[sea_orm(entity = "passkey::Entity")]
pub struct PasskeyEntry {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
) -> Result<Vec<PasskeyEntry>, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::ReviewerId.eq(reviewer_id))
        .order_by_asc(passkey::Column::CreatedAt)
        .into_partial_model::<PasskeyEntry>()
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait, reviewer_id: Uuid) -> Result<u64, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::ReviewerId.eq(reviewer_id))
        .count(db)
        .await
}

/// Whether the session proved itself with a passkey within the last five minutes.
pub fn stepped_up(session: &ActiveSession, now: DateTime<Utc>) -> bool {
    session
        .passkey_at
        .is_some_and(|at| now - at < STEP_UP_VALIDITY && at <= now)
}

/// Whom a ceremony belongs to: the reviewer, and the hash of what proves the browser
/// finishing it is the one that started it (the session, or the enrolment link).
type Owner = Option<(Uuid, Vec<u8>)>;

fn session_owner(session: &ActiveSession) -> Owner {
    Some((session.reviewer.id, session.id_hash.clone()))
}

async fn store_ceremony(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    owner: Owner,
    state: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<CeremonyToken, PasskeyError> {
    let token =
        CeremonyToken::generate().map_err(|_| PasskeyError::Setup("no randomness".into()))?;
    let state = serde_json::to_string(state).map_err(|e| PasskeyError::Setup(e.to_string()))?;
    // Ceremonies nobody finished are of no use to anyone.
    passkey_ceremony::Entity::delete_many()
        .filter(passkey_ceremony::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    passkey_ceremony::ActiveModel {
        id_hash: Set(token.hash().to_vec()),
        purpose: Set(purpose.as_str().to_owned()),
        reviewer_id: Set(owner.as_ref().map(|(reviewer, _)| *reviewer)),
        session_hash: Set(owner.map(|(_, proof)| proof)),
        state: Set(state),
        expires_at: Set(now + CEREMONY_VALIDITY),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Takes a ceremony's state, once: the row is deleted by the same guarded statement that
/// proves it was still there, so a replayed answer finds nothing.
async fn take_ceremony<S: DeserializeOwned>(
    db: &impl ConnectionTrait,
    token: &CeremonyToken,
    purpose: Purpose,
    owner: Owner,
    now: DateTime<Utc>,
) -> Result<S, PasskeyError> {
    let hash = token.hash().to_vec();
    let found = passkey_ceremony::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
        .ok_or(PasskeyError::CeremonyGone)?;
    let taken = passkey_ceremony::Entity::delete_many()
        .filter(passkey_ceremony::Column::IdHash.eq(hash))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let belongs = found.purpose == purpose.as_str()
        && found.session_hash.as_deref() == owner.as_ref().map(|(_, proof)| proof.as_slice())
        && found.reviewer_id == owner.as_ref().map(|(reviewer, _)| *reviewer);
    if !taken || !belongs || found.expires_at <= now {
        return Err(PasskeyError::CeremonyGone);
    }
    serde_json::from_str(&found.state).map_err(|_| PasskeyError::CeremonyGone)
}

async fn passkeys_of(
    db: &impl ConnectionTrait,
    reviewer_id: Uuid,
) -> Result<Vec<(passkey::Model, Passkey)>, PasskeyError> {
    passkey::Entity::find()
        .filter(passkey::Column::ReviewerId.eq(reviewer_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let key = serde_json::from_str(&row.credential).map_err(|_| PasskeyError::Malformed)?;
            Ok((row, key))
        })
        .collect()
}

/// Who adds a passkey, and what they proved for it.
pub enum Enroller<'a> {
    /// A signed-in reviewer; `password_confirmed` when they typed their current password
    /// again for this (checked by the caller, throttled like a sign-in).
    Session {
        session: &'a ActiveSession,
        password_confirmed: bool,
    },
    /// Whoever holds a usable one-time enrolment link, for the reviewer it was made for
    /// (checked by the caller).
    Link {
        link: &'a PasswordLinkToken,
        reviewer: &'a reviewer::Model,
    },
}

impl Enroller<'_> {
    fn reviewer(&self) -> &reviewer::Model {
        match self {
            Enroller::Session { session, .. } => &session.reviewer,
            Enroller::Link { reviewer, .. } => reviewer,
        }
    }

    fn purpose(&self) -> Purpose {
        match self {
            Enroller::Session { .. } => Purpose::Register,
            Enroller::Link { .. } => Purpose::Enrol,
        }
    }

    fn owner(&self) -> Owner {
        match self {
            Enroller::Session { session, .. } => session_owner(session),
            Enroller::Link { link, reviewer } => Some((reviewer.id, link.hash().to_vec())),
        }
    }

    /// Whether this enroller may add a passkey to an account that has `existing` of them.
    fn may_add(
        &self,
        existing: usize,
        policy: PasskeyPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), PasskeyError> {
        match self {
            Enroller::Link { .. } => Ok(()),
            Enroller::Session { session, .. } if existing > 0 => stepped_up(session, now)
                .then_some(())
                .ok_or(PasskeyError::StepUpNeeded),
            Enroller::Session { .. } if policy == PasskeyPolicy::Required => {
                Err(PasskeyError::EnrolmentLinkNeeded)
            }
            Enroller::Session {
                password_confirmed, ..
            } => password_confirmed
                .then_some(())
                .ok_or(PasskeyError::PasswordNeeded),
        }
    }
}

/// A passkey's name as it is kept: its words joined by single spaces, 1 to 64 characters.
fn passkey_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(PasskeyError::InvalidName);
    }
    Ok(name)
}

/// Refuses a name one of the reviewer's passkeys already has (in any case): the audit trail
/// and the notices name passkeys, and two of one name would say nothing.
fn check_name_free(name: &str, existing: &[(passkey::Model, Passkey)]) -> Result<(), PasskeyError> {
    let wanted = name.to_lowercase();
    match existing
        .iter()
        .any(|(row, _)| row.name.to_lowercase() == wanted)
    {
        true => Err(PasskeyError::NameTaken),
        false => Ok(()),
    }
}

/// What a registration ceremony keeps until the passkey answers: webauthn-rs's state and
/// the name, checked before the device was asked (a name refused afterwards would leave a
/// credential on the device that no account knows).
#[derive(Serialize, serde::Deserialize)]
struct Registration {
    state: PasskeyRegistration,
    name: String,
}

/// Starts adding a passkey named `name` for the enroller's reviewer, when they may. The
/// passkey is asked to be discoverable (resident), so that signing in needs no name.
pub async fn start_registration(
    passkeys: &Passkeys,
    db: &impl ConnectionTrait,
    enroller: &Enroller<'_>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Started<serde_json::Value>, PasskeyError> {
    let me = enroller.reviewer();
    let existing = passkeys_of(db, me.id).await?;
    enroller.may_add(existing.len(), passkeys.policy, now)?;
    let name = passkey_name(name)?;
    check_name_free(&name, &existing)?;
    let exclude = existing
        .iter()
        .map(|(_, key)| key.cred_id().clone())
        .collect();
    let (options, state): (CreationChallengeResponse, PasskeyRegistration) = passkeys
        .webauthn
        .start_passkey_registration(me.id, &me.name, &me.name, Some(exclude))
        .map_err(PasskeyError::Refused)?;
    let mut options = serde_json::to_value(options).map_err(|_| PasskeyError::Malformed)?;
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = "required".into();
        selection["requireResidentKey"] = true.into();
    }
    let registration = Registration { state, name };
    let ceremony =
        store_ceremony(db, enroller.purpose(), enroller.owner(), &registration, now).await?;
    Ok(Started { options, ceremony })
}

/// A passkey added to or removed from a reviewer's account: what their notices say.
#[derive(Clone, Debug)]
pub struct PasskeyChange {
    pub reviewer: reviewer::Model,
    pub what: ChangeKind,
    /// Who made the change (the reviewer themselves, an admin, or the operator).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// What happened to the reviewer's passkeys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// The passkey of this name was added.
    Added(String),
    /// The passkey of this name was removed.
    Removed(String),
    /// All of them (this many) were removed at once: a reset, or the operator.
    AllRemoved(u64),
}

/// Finishes adding a passkey from the browser's answer (its `toJSON()`). Through a link, the
/// link is used up in the same transaction.
pub async fn finish_registration(
    passkeys: &Passkeys,
    db: &DatabaseConnection,
    enroller: &Enroller<'_>,
    ceremony: &CeremonyToken,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<PasskeyChange, PasskeyError> {
    let txn = crate::platform::db::begin_writing(db).await?;
    let Registration { state, name } =
        take_ceremony(&txn, ceremony, enroller.purpose(), enroller.owner(), now).await?;
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let key = passkeys
        .webauthn
        .finish_passkey_registration(&answer, &state)
        .map_err(PasskeyError::Refused)?;
    let me = enroller.reviewer();
    check_name_free(&name, &passkeys_of(&txn, me.id).await?)?;
    let credential_id = key.cred_id().clone();
    let taken = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id.clone()))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(PasskeyError::AlreadyRegistered);
    }
    if let Enroller::Link { link, .. } = enroller {
        if !use_link(&txn, link).await? {
            return Err(PasskeyError::CeremonyGone);
        }
    }
    let row = passkey::ActiveModel {
        id: Set(Uuid::new_v4()),
        reviewer_id: Set(me.id),
        name: Set(name),
        credential_id: Set(credential_id),
        credential: Set(serde_json::to_string(&key).map_err(|_| PasskeyError::Malformed)?),
        sign_count: Set(0),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let how = match enroller {
        Enroller::Link { .. } => " through a one-time link",
        Enroller::Session { .. } => "",
    };
    audit::record(
        &txn,
        Actor::Reviewer(&me.name),
        Action::PasskeyAdded,
        None,
        Some(&format!("{}{how}", passkey_detail(&row))),
    )
    .await?;
    txn.commit().await?;
    Ok(PasskeyChange {
        reviewer: me.clone(),
        what: ChangeKind::Added(row.name),
        by: me.name.clone(),
        at: now,
    })
}

/// How the audit trail names a passkey: its name and the start of its credential id.
fn passkey_detail(row: &passkey::Model) -> String {
    let id = crate::platform::crypto::hex(&row.credential_id);
    format!("“{}” ({})", row.name, &id[..id.len().min(16)])
}

/// Removes one of the session's reviewer's own passkeys, after a fresh step-up; `None` when
/// it is not theirs.
pub async fn remove(
    db: &impl ConnectionTrait,
    session: &ActiveSession,
    passkey_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<PasskeyChange>, PasskeyError> {
    let me = &session.reviewer;
    let Some(row) = passkey::Entity::find_by_id(passkey_id)
        .filter(passkey::Column::ReviewerId.eq(me.id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !stepped_up(session, now) {
        return Err(PasskeyError::StepUpNeeded);
    }
    passkey::Entity::delete_by_id(row.id).exec(db).await?;
    audit::record(
        db,
        Actor::Reviewer(&me.name),
        Action::PasskeyRemoved,
        None,
        Some(&passkey_detail(&row)),
    )
    .await?;
    Ok(Some(PasskeyChange {
        reviewer: me.clone(),
        what: ChangeKind::Removed(row.name),
        by: me.name.clone(),
        at: now,
    }))
}

/// Removes every passkey of a reviewer (a reset link, or the CLI when every admin lost
/// theirs); the change, when there was any passkey.
pub async fn remove_all(
    db: &impl ConnectionTrait,
    target: &reviewer::Model,
    actor: &str,
) -> Result<Option<PasskeyChange>, DbErr> {
    let removed = passkey::Entity::delete_many()
        .filter(passkey::Column::ReviewerId.eq(target.id))
        .exec(db)
        .await?
        .rows_affected;
    if removed == 0 {
        return Ok(None);
    }
    {
        let detail = format!("{}: {removed} passkey(s)", target.name);
        audit::record(
            db,
            Actor::Reviewer(actor),
            Action::PasskeysRemoved,
            None,
            Some(&detail),
        )
        .await?;
    }
    Ok(Some(PasskeyChange {
        reviewer: target.clone(),
        what: ChangeKind::AllRemoved(removed),
        by: actor.to_owned(),
        at: Utc::now(),
    }))
}
