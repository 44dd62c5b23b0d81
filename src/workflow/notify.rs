//! Mails about a request, added to the outbox in the caller's transaction.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use uuid::Uuid;

use crate::mail::Mail;
use crate::platform::i18n::Lang;
use crate::workflow::services::Services;

/// Adds a mail about `request_id` to the outbox, in the caller's transaction; nothing for
/// an address that was erased.
pub(crate) async fn notify(
    services: &Services,
    db: &impl sea_orm::ConnectionTrait,
    request_id: Uuid,
    recipient: &str,
    lang: Lang,
    mail: Mail,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if recipient.is_empty() {
        return Ok(());
    }
    crate::mail::enqueue(
        db,
        &services.master_key,
        services.settings.smtp_url.is_some(),
        Some(request_id),
        recipient,
        lang,
        mail,
        now,
    )
    .await
}

/// Adds a mail to the request's requester to the outbox, in their language, in the caller's
/// transaction.
pub(crate) async fn notify_requester(
    services: &Services,
    db: &impl sea_orm::ConnectionTrait,
    found: &entities::request::Model,
    mail: Mail,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let lang = language_of(found);
    notify(
        services,
        db,
        found.id,
        &found.requester_email,
        lang,
        mail,
        now,
    )
    .await
}

/// The language a request's mails are written in.
pub(crate) fn language_of(found: &entities::request::Model) -> Lang {
    Lang::from_code(&found.language).unwrap_or_default()
}
