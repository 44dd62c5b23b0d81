//! Short messages between the requester (tracking page) and the reviewers (review page),
//! kept in the request's timeline and erased with its personal data.

use chrono::{DateTime, Utc};
use entities::{request, reviewer};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::platform::db::SetNull;
use crate::workflow::ids::RequestId;
use crate::workflow::links::Links;

use super::state::{record_event, Event};
use crate::evidence::audit::{self, Action, Actor};
use crate::mail::Mail;
use crate::platform::crypto::TrackingToken;
use crate::platform::i18n::Lang;
use crate::workflow::notify::{notify, notify_requester};
use crate::workflow::services::Services;

/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Messages a requester may send on one request: enough for any conversation, not a flood.
pub const MAX_REQUESTER_MESSAGES: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("this request has had too many messages")]
    TooMany,
    /// Unknown token or request, or one whose personal data are erased.
    #[error("no such request")]
    NotFound,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// Plain text: trimmed, line breaks kept, other control characters dropped.
fn clean(text: &str) -> Result<String, MessageError> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if text.is_empty() {
        return Err(MessageError::Empty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(MessageError::TooLong);
    }
    Ok(text)
}

/// The requester writes to the reviewers; the request is marked in the queue until a
/// reviewer answers.
pub async fn from_requester(
    services: &Services,
    token: &TrackingToken,
    text: &str,
    links: &dyn Links,
    now: DateTime<Utc>,
) -> Result<(), MessageError> {
    let text = clean(text)?;
    let found = request::Entity::find()
        .filter(super::rules::tracking_link(token))
        .filter(request::Column::PersonalDataErasedAt.is_null())
        .one(&services.db)
        .await?
        .ok_or(MessageError::NotFound)?;
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    // Counted and checked in one guarded update, in the transaction that stores the message:
    // of many concurrent posts, exactly the allowed number go through.
    let counted = request::Entity::update_many()
        .col_expr(
            request::Column::RequesterMessages,
            Expr::col(request::Column::RequesterMessages).add(1),
        )
        .filter(request::Column::Id.eq(found.id))
        .filter(request::Column::RequesterMessages.lt(MAX_REQUESTER_MESSAGES as i32))
        .exec(&txn)
        .await?;
    if counted.rows_affected != 1 {
        return Err(MessageError::TooMany);
    }
    record_event(&txn, found.id, Event::MessageFromRequester, Some(text), now).await?;
    request::Entity::update_many()
        .col_expr(request::Column::AwaitingReplySince, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(found.id))
        .filter(request::Column::AwaitingReplySince.is_null())
        .exec(&txn)
        .await?;
    if let Some(staff) = &services.settings.staff_mail {
        let mail = Mail::StaffNewMessage {
            domain: found.domain.clone(),
            short_id: super::short_id(found.id),
            review_url: links.review_request(found.id),
        };
        notify(services, &txn, found.id, staff, Lang::En, mail, now).await?;
    }
    txn.commit().await?;
    services.mail_wake.notify_one();
    Ok(())
}

/// A reviewer writes to the requester; the request's mark in the queue is cleared. The
/// audit trail records who wrote, not what.
pub async fn from_staff(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), MessageError> {
    let request_id = request_id.0;
    let text = clean(text)?;
    let found = request::Entity::find_by_id(request_id)
        .filter(request::Column::PersonalDataErasedAt.is_null())
        .one(&services.db)
        .await?
        .ok_or(MessageError::NotFound)?;
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    record_event(&txn, found.id, Event::MessageFromStaff, Some(text), now).await?;
    request::Entity::update_many()
        .set_null([request::Column::AwaitingReplySince])
        .filter(request::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Actor::Reviewer(&me.name),
        Action::MessageSent,
        Some(found.id),
        None,
    )
    .await?;
    let mail = Mail::NewMessage {
        domain: found.domain.clone(),
    };
    notify_requester(services, &txn, &found, mail, now).await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain_trimmed_text_within_the_limit() {
        assert_eq!(clean("  Hello\nthere\u{7}  ").unwrap(), "Hello\nthere");
        assert!(matches!(clean(" \n "), Err(MessageError::Empty)));
        assert_eq!(clean(&"é".repeat(2000)).unwrap().chars().count(), 2000);
        assert!(matches!(
            clean(&"é".repeat(2001)),
            Err(MessageError::TooLong)
        ));
    }
}
