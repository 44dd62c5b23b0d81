//! The outbox: mails are rows first, then sent over SMTP by [`deliver_due`], retried with
//! growing pauses, and given up after a day. A row's secret link is sealed under the master
//! key and erased once sent (or given up); without SMTP no link is kept at all.

use chrono::{DateTime, Duration, Utc};
use entities::outbox_mail;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::body::{html, paragraphs_with_link, text, LINK_MARKER};
use super::compose::Mail;
use super::Mailer;
use crate::platform::db::SetNull;
use crate::platform::i18n::Lang;
use crate::platform::keyring::KeyRing;

/// Attempts before a mail is given up: with the pauses below, about a day.
const MAX_ATTEMPTS: i32 = 12;
/// Mails sent in one pass.
const BATCH: u64 = 20;
/// While one instance sends a mail, others leave it alone this long.
const SENDING_LEASE: Duration = Duration::minutes(2);
const NO_SMTP: &str = "SMTP is not configured (TRANSFER_DESK_SMTP_URL)";

/// The pause after the `attempts`-th failure: 1, 2, 4 … minutes, at most 4 hours.
fn backoff(attempts: i32) -> Duration {
    Duration::minutes(1 << attempts.clamp(1, 9).saturating_sub(1)).min(Duration::hours(4))
}

fn link_context(id: Uuid) -> Vec<u8> {
    [b"outbox ".as_slice(), id.as_bytes()].concat()
}

/// Adds a mail to the outbox, in the caller's transaction. Without SMTP it is kept as not
/// sent, without its link, for admins to read.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    db: &impl ConnectionTrait,
    master_key: &KeyRing,
    smtp_configured: bool,
    request_id: Option<Uuid>,
    recipient: &str,
    lang: Lang,
    mail: Mail,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let composed = mail.compose(lang);
    let id = Uuid::new_v4();
    let sealed_link = match (&composed.link, smtp_configured) {
        (Some(link), true) => Some(
            master_key
                .seal_secret(&link_context(id), link.as_bytes())
                .map_err(|e| DbErr::Custom(format!("cannot seal a mail link: {e}")))?,
        ),
        _ => None,
    };
    outbox_mail::ActiveModel {
        id: Set(id),
        request_id: Set(request_id),
        kind: Set(composed.kind.to_owned()),
        recipient: Set(recipient.to_owned()),
        language: Set(lang.code().to_owned()),
        subject: Set(composed.subject),
        body: Set(composed.body),
        sealed_link: Set(sealed_link),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        sent_at: Set(None),
        failed_at: Set((!smtp_configured).then_some(now)),
        last_error: Set((!smtp_configured).then(|| NO_SMTP.to_owned())),
        link_paragraph: Set(composed.link_paragraph.map(|at| at as i32)),
    }
    .insert(db)
    .await
    .map(|_| ())
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
}

/// Sends the mails that are due. Each is first leased with a guarded update, so that two
/// instances never send the same mail.
pub async fn deliver_due(mailer: Mailer<'_>, now: DateTime<Utc>) -> Result<DeliveryReport, DbErr> {
    let mut report = DeliveryReport::default();
    let Some(url) = &mailer.settings.smtp_url else {
        return Ok(report);
    };
    let due = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::SentAt.is_null())
        .filter(outbox_mail::Column::FailedAt.is_null())
        .filter(outbox_mail::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox_mail::Column::NextAttemptAt)
        .limit(BATCH)
        .all(mailer.db)
        .await?;
    if due.is_empty() {
        return Ok(report);
    }
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()) {
        Ok(builder) => builder
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build(),
        Err(error) => {
            tracing::error!(%error, "TRANSFER_DESK_SMTP_URL cannot be used");
            return Ok(report);
        }
    };
    let from: Mailbox = mailer
        .settings
        .mail_from
        .parse()
        .map_err(|e| DbErr::Custom(format!("TRANSFER_DESK_MAIL_FROM: {e}")))?;
    for mail in due {
        let leased = outbox_mail::Entity::update_many()
            .col_expr(
                outbox_mail::Column::NextAttemptAt,
                Expr::value(now + SENDING_LEASE),
            )
            .filter(outbox_mail::Column::Id.eq(mail.id))
            .filter(outbox_mail::Column::SentAt.is_null())
            .filter(outbox_mail::Column::NextAttemptAt.eq(mail.next_attempt_at))
            .exec(mailer.db)
            .await?;
        if leased.rows_affected != 1 {
            continue;
        }
        let attempts = mail.attempts + 1;
        match send(mailer, &transport, &from, &mail).await {
            Ok(()) => {
                record_sent(mailer, &mail, attempts, now).await?;
                report.sent += 1;
            }
            Err(failure) => {
                if record_failure(mailer, &mail, attempts, failure, now).await? {
                    report.given_up += 1;
                } else {
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// A mail went out: marked sent, its link forgotten.
async fn record_sent(
    mailer: Mailer<'_>,
    mail: &outbox_mail::Model,
    attempts: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if mail.kind == HOLDER_REQUEST {
        mark_holder_link_sent(mailer, mail, now).await?;
    }
    outbox_mail::Entity::update_many()
        .col_expr(outbox_mail::Column::SentAt, Expr::value(Some(now)))
        .col_expr(outbox_mail::Column::Attempts, Expr::value(attempts))
        .set_null([
            outbox_mail::Column::SealedLink,
            outbox_mail::Column::LastError,
        ])
        .filter(outbox_mail::Column::Id.eq(mail.id))
        .exec(mailer.db)
        .await?;
    Ok(())
}

/// A mail could not be sent: tried again later, or given up (its link forgotten) when
/// trying again cannot help or it was tried often enough. Returns whether it was given up.
async fn record_failure(
    mailer: Mailer<'_>,
    mail: &outbox_mail::Model,
    attempts: i32,
    failure: SendError,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let (error, give_up) = match failure {
        SendError::Permanent(error) => (error, true),
        SendError::Retry(error) => (error, attempts >= MAX_ATTEMPTS),
    };
    tracing::warn!(mail = %mail.id, kind = %mail.kind, attempts, %error, "a mail could not be sent");
    let mut update = outbox_mail::Entity::update_many()
        .col_expr(outbox_mail::Column::Attempts, Expr::value(attempts))
        .col_expr(
            outbox_mail::Column::LastError,
            Expr::value(Some(error.chars().take(500).collect::<String>())),
        )
        .col_expr(
            outbox_mail::Column::NextAttemptAt,
            Expr::value(now + backoff(attempts)),
        );
    if give_up {
        update = update
            .col_expr(outbox_mail::Column::FailedAt, Expr::value(Some(now)))
            .set_null([outbox_mail::Column::SealedLink]);
    }
    update
        .filter(outbox_mail::Column::Id.eq(mail.id))
        .exec(mailer.db)
        .await?;
    Ok(give_up)
}

/// Why a mail was not sent, without its link.
enum SendError {
    /// Sending again cannot help (an address no mail can go to): given up at once.
    Permanent(String),
    /// The mail server or the network failed: tried again later.
    Retry(String),
}

/// The kind of the mail that carries the holder's private link.
const HOLDER_REQUEST: &str = "holder_request";

/// The holder's link reached their mail server: the review page may say so.
async fn mark_holder_link_sent(
    mailer: Mailer<'_>,
    mail: &outbox_mail::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(request_id) = mail.request_id else {
        return Ok(());
    };
    entities::request::Entity::update_many()
        .col_expr(
            entities::request::Column::HolderLinkSentAt,
            Expr::value(Some(now)),
        )
        .filter(entities::request::Column::Id.eq(request_id))
        .filter(entities::request::Column::HolderEmail.eq(mail.recipient.as_str()))
        .exec(mailer.db)
        .await
        .map(|_| ())
}

/// Builds one mail (text and HTML parts, the link put back in) and hands it to SMTP. The
/// error says what went wrong without the link.
async fn send(
    mailer: Mailer<'_>,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    mail: &outbox_mail::Model,
) -> Result<(), SendError> {
    let link = match &mail.sealed_link {
        Some(sealed) => Some(
            mailer
                .keys
                .open_secret(&link_context(mail.id), sealed)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
                .ok_or_else(|| SendError::Permanent("the mail's link cannot be opened".into()))?,
        ),
        None => None,
    };
    let lang = Lang::from_code(&mail.language).unwrap_or(Lang::En);
    let at = mail.link_paragraph.and_then(|at| usize::try_from(at).ok());
    let text = zeroize::Zeroizing::new(text(&mail.body, at, link.as_deref()));
    let html = zeroize::Zeroizing::new(html(&mail.body, at, link.as_deref(), lang));
    let to: Mailbox = mail.recipient.parse().map_err(|_| {
        SendError::Permanent(format!(
            "“{}” is not an address mail can be sent to",
            mail.recipient
        ))
    })?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentLanguage(lang.code()))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html.to_string()),
                ),
        )
        .map_err(|e| SendError::Permanent(format!("the mail cannot be built: {e}")))?;
    transport.send(message).await.map(|_| ()).map_err(|e| {
        // A mail server's permanent refusal (5xx) will not change on a retry.
        let error = format!("SMTP: {e}");
        if e.is_permanent() {
            SendError::Permanent(error)
        } else {
            SendError::Retry(error)
        }
    })
}

/// The `Content-Language` header, which lettre does not define.
#[derive(Clone)]
struct ContentLanguage(&'static str);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Lang::from_code(text)
            .map(|lang| ContentLanguage(lang.code()))
            .ok_or_else(|| "not one of our languages".into())
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

/// A mail as admins see it in the outbox: never its link.
#[derive(Debug, serde::Serialize)]
pub struct Queued {
    pub id: Uuid,
    pub request_id: Option<Uuid>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// The latest mails, newest first.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Queued>, DbErr> {
    Ok(outbox_mail::Entity::find()
        .order_by_desc(outbox_mail::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Queued {
            id: m.id,
            request_id: m.request_id,
            kind: m.kind,
            recipient: m.recipient,
            subject: m.subject,
            // The link's place, shown as the marker the admins' page hides.
            body: paragraphs_with_link(
                &m.body,
                m.link_paragraph.and_then(|at| usize::try_from(at).ok()),
            )
            .into_iter()
            .map(|p| p.unwrap_or(LINK_MARKER))
            .collect::<Vec<_>>()
            .join("\n\n"),
            created_at: m.created_at,
            attempts: m.attempts,
            sent_at: m.sent_at,
            failed_at: m.failed_at,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
        })
        .collect())
}

/// Mails hold names and addresses: sent or given-up mails go after `keep`.
pub async fn purge_old(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    keep: Duration,
) -> Result<u64, DbErr> {
    Ok(outbox_mail::Entity::delete_many()
        .filter(outbox_mail::Column::CreatedAt.lt(now - keep))
        .filter(
            sea_orm::Condition::any()
                .add(outbox_mail::Column::SentAt.is_not_null())
                .add(outbox_mail::Column::FailedAt.is_not_null()),
        )
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_four_hours() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(5), Duration::minutes(16));
        assert_eq!(backoff(11), Duration::hours(4));
        let total: i64 = (1..MAX_ATTEMPTS).map(|n| backoff(n).num_minutes()).sum();
        assert!((12 * 60..48 * 60).contains(&total), "{total} minutes");
    }
}
