//! The append-only audit trail: who did what, when, to which request. Never secrets.

use chrono::Utc;
use entities::audit_event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

/// What was done, as the audit trail records it (stored as its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Login,
    LoginFailed,
    LoginThrottled,
    Logout,
    Setup,
    ReviewerAdded,
    ReviewerDisabled,
    PasswordChanged,
    PasswordChangeRefused,
    PasswordReset,
    ReviewerEnabled,
    Claim,
    Release,
    DocumentView,
    KeyUse,
    Approval,
    Decision,
    DocumentRequested,
    DocumentReplaced,
    Shred,
    CodeIssued,
    CodeErased,
    Expired,
    IssuingFailed,
    PersonalDataErased,
    NoticePosted,
    NoticeEnded,
    NameserversSet,
    HolderConfirmed,
    HolderRefused,
    MessageSent,
    Objection,
    CodeCancelled,
    CodeCancelFailed,
    ObjectionHandled,
    DomainLimitCleared,
    NameserversRestored,
    NameserversRestoreFailed,
    NameserversApproved,
    NameserversHandOffFailed,
    ApprovalWithdrawn,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeysRemoved,
    LoginWithPasskey,
    PasskeyStepUp,
    PasskeyRefused,
    PasskeyLinkIssued,
    /// A command sent to the registry in EPP, with its clTRID (recorded before it is sent).
    RegistryCommand,
    /// A wallet's e-ID answer was verified (issuer, credential type and digest; no names).
    EidProven,
    /// A wallet's e-ID answer was refused, and why.
    EidRefused,
    /// The verified answer counts for the request (at once, or once the browser that started
    /// a same-device session brought back its response code).
    EidAccepted,
    /// A reviewer dealt with a request the registry had refused: its mark in the queue goes.
    RegistryRefusalHandled,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::LoginThrottled => "login_throttled",
            Action::Logout => "logout",
            Action::Setup => "setup",
            Action::ReviewerAdded => "reviewer_added",
            Action::ReviewerDisabled => "reviewer_disabled",
            Action::PasswordChanged => "password_changed",
            Action::PasswordChangeRefused => "password_change_refused",
            Action::PasswordReset => "password_reset",
            Action::ReviewerEnabled => "reviewer_enabled",
            Action::Claim => "claim",
            Action::Release => "release",
            Action::DocumentView => "document_view",
            Action::KeyUse => "key_use",
            Action::Approval => "approval",
            Action::Decision => "decision",
            Action::DocumentRequested => "document_requested",
            Action::DocumentReplaced => "document_replaced",
            Action::Shred => "shred",
            Action::CodeIssued => "code_issued",
            Action::CodeErased => "code_erased",
            Action::Expired => "expired",
            Action::IssuingFailed => "issuing_failed",
            Action::PersonalDataErased => "personal_data_erased",
            Action::NoticePosted => "notice_posted",
            Action::NoticeEnded => "notice_ended",
            Action::NameserversSet => "nameservers_set",
            Action::HolderConfirmed => "holder_confirmed",
            Action::HolderRefused => "holder_refused",
            Action::MessageSent => "message_sent",
            Action::Objection => "objection",
            Action::CodeCancelled => "code_cancelled",
            Action::CodeCancelFailed => "code_cancel_failed",
            Action::ObjectionHandled => "objection_handled",
            Action::DomainLimitCleared => "domain_limit_cleared",
            Action::NameserversRestored => "nameservers_restored",
            Action::NameserversRestoreFailed => "nameservers_restore_failed",
            Action::NameserversApproved => "nameservers_approved",
            Action::NameserversHandOffFailed => "nameservers_hand_off_failed",
            Action::ApprovalWithdrawn => "approval_withdrawn",
            Action::PasskeyAdded => "passkey_added",
            Action::PasskeyRemoved => "passkey_removed",
            Action::PasskeysRemoved => "passkeys_removed",
            Action::LoginWithPasskey => "login_with_passkey",
            Action::PasskeyStepUp => "passkey_step_up",
            Action::PasskeyRefused => "passkey_refused",
            Action::PasskeyLinkIssued => "passkey_link_issued",
            Action::RegistryCommand => "registry_command",
            Action::EidProven => "eid_proven",
            Action::EidRefused => "eid_refused",
            Action::EidAccepted => "eid_accepted",
            Action::RegistryRefusalHandled => "registry_refusal_handled",
        }
    }
}

/// Who did it: a reviewer by name (or the name typed at a sign-in), or one of the parties
/// that have no account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor<'a> {
    Reviewer(&'a str),
    /// The service itself (the sweeper, the registry's answers).
    System,
    /// The holder, from their own link.
    Holder,
    /// The registrant on file, from the link in their notice.
    Registrant,
    /// The requester, from their tracking page.
    Requester,
}

impl Actor<'_> {
    pub fn name(&self) -> &str {
        match self {
            Actor::Reviewer(name) => name,
            Actor::System => "system",
            Actor::Holder => "holder",
            Actor::Registrant => "registrant",
            Actor::Requester => "requester",
        }
    }
}

pub async fn record(
    db: &impl ConnectionTrait,
    actor: Actor<'_>,
    action: Action,
    request_id: Option<Uuid>,
    detail: Option<&str>,
) -> Result<(), DbErr> {
    // Microseconds: what every database keeps, so that the log's encoding of the event is
    // the same whichever database it is read back from.
    let now = Utc::now();
    let at = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1000));
    // Every event's own salt, never published: the log commits to its actor and detail only
    // through it, so that a leaf hash that a proof shows gives nothing away.
    let salt = crate::evidence::log::new_salt()
        .map_err(|_| DbErr::Custom("no randomness for the audit log".into()))?;
    audit_event::ActiveModel {
        at: Set(at),
        actor: Set(actor.name().chars().take(64).collect()),
        action: Set(action.as_str().to_owned()),
        request_id: Set(request_id),
        detail: Set(detail.map(|d| d.chars().take(500).collect())),
        salt: Set(Some(salt)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub request_id: Option<Uuid>,
}

/// The newest events first, filtered.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_event::Column::Actor.eq(actor.as_str()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(id) = filter.request_id {
        query = query.filter(audit_event::Column::RequestId.eq(id));
    }
    query
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Passkeys added, removed and enrolment links issued since `since`, newest first: what
/// admins see on the reviewers page, so that a passkey nobody meant to add is noticed.
pub async fn passkey_changes(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<Utc>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let changes = [
        Action::PasskeyAdded,
        Action::PasskeyRemoved,
        Action::PasskeysRemoved,
        Action::PasskeyLinkIssued,
    ];
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.is_in(changes.map(Action::as_str)))
        .filter(audit_event::Column::At.gte(since))
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
