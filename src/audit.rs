//! The append-only audit trail: who did what, when, to which request. Never secrets.

use chrono::Utc;
use entities::audit_event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

pub const LOGIN: &str = "login";
pub const LOGIN_FAILED: &str = "login_failed";
pub const LOGIN_THROTTLED: &str = "login_throttled";
pub const LOGOUT: &str = "logout";
pub const SETUP: &str = "setup";
pub const REVIEWER_ADDED: &str = "reviewer_added";
pub const REVIEWER_DISABLED: &str = "reviewer_disabled";
pub const PASSWORD_CHANGED: &str = "password_changed";
pub const PASSWORD_CHANGE_REFUSED: &str = "password_change_refused";
pub const PASSWORD_RESET: &str = "password_reset";
pub const REVIEWER_ENABLED: &str = "reviewer_enabled";
pub const CLAIM: &str = "claim";
pub const RELEASE: &str = "release";
pub const DOCUMENT_VIEW: &str = "document_view";
pub const KEY_USE: &str = "key_use";
pub const APPROVAL: &str = "approval";
pub const DECISION: &str = "decision";
pub const DOCUMENT_REQUESTED: &str = "document_requested";
pub const DOCUMENT_REPLACED: &str = "document_replaced";
pub const SHRED: &str = "shred";
pub const CODE_ISSUED: &str = "code_issued";
pub const CODE_ERASED: &str = "code_erased";
pub const EXPIRED: &str = "expired";
pub const ISSUING_FAILED: &str = "issuing_failed";
pub const PERSONAL_DATA_ERASED: &str = "personal_data_erased";
pub const NOTICE_POSTED: &str = "notice_posted";
pub const NOTICE_ENDED: &str = "notice_ended";
pub const NAMESERVERS_SET: &str = "nameservers_set";
pub const HOLDER_CONFIRMED: &str = "holder_confirmed";
pub const HOLDER_REFUSED: &str = "holder_refused";
pub const MESSAGE_SENT: &str = "message_sent";
pub const OBJECTION: &str = "objection";
pub const CODE_CANCELLED: &str = "code_cancelled";
pub const CODE_CANCEL_FAILED: &str = "code_cancel_failed";
pub const OBJECTION_HANDLED: &str = "objection_handled";
pub const DOMAIN_LIMIT_CLEARED: &str = "domain_limit_cleared";
pub const NAMESERVERS_RESTORED: &str = "nameservers_restored";
pub const NAMESERVERS_RESTORE_FAILED: &str = "nameservers_restore_failed";
pub const NAMESERVERS_APPROVED: &str = "nameservers_approved";
pub const NAMESERVERS_HAND_OFF_FAILED: &str = "nameservers_hand_off_failed";
pub const APPROVAL_WITHDRAWN: &str = "approval_withdrawn";

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    request_id: Option<Uuid>,
    detail: Option<&str>,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.chars().take(64).collect()),
        action: Set(action.to_owned()),
        request_id: Set(request_id),
        detail: Set(detail.map(|d| d.chars().take(500).collect())),
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
