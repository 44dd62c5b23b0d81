//! The request workflow: states and transitions, in plain Rust with no HTTP in it.
//!
//! `state` holds the state machine; `submit` and `tracking` are the requester's side;
//! `queue` (claims), `view` (what a reviewer sees) and `decide` the reviewer's; `shred`
//! destroys documents and `sweep` runs the background jobs.

pub mod close;
pub mod decide;
pub(crate) mod documents;
pub mod expiry;
pub mod holder;
mod ids;
pub mod jobs;
pub mod limits;
pub mod messages;
pub mod notices;
pub mod objection;
pub mod queue;
pub mod receipt;
pub mod rules;
pub mod services;
pub mod shred;
pub mod state;
mod submit;
pub mod sweep;
mod tracking;
pub mod view;
pub mod zones;

#[cfg(test)]
pub(crate) mod testing;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveEnum, DbErr};
use uuid::Uuid;

pub use crate::evidence::reason::{self, Reason, REJECTION_REASONS};
pub use decide::provide_document;
pub use entities::enums::{
    DocumentKind, IdDocumentType, RequestKind, RequestState, RequesterRelation, ZoneStatus,
};
pub use ids::{DocumentId, RequestId};
pub use limits::address_over_limit;
pub use state::Event;
pub use submit::{
    submit, Field, FieldErrors, FieldProblem, Offers, SubmissionInput, SubmitError, Submitted,
    TypedValues, Upload, HOLDER_LINK_DAYS,
};
pub use tracking::{find_for_requester, first_tracking_view, TimelineEntry, TrackingView};

use crate::intake::Signals;
use crate::mail::Mail;
use crate::platform::config::Settings;
use crate::platform::i18n::Lang;
use crate::workflow::services::Services;

/// Errors of the reviewer's side; the web layer words them for people.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such request")]
    NotFound,
    #[error("claimed by {holder}")]
    ClaimedByOther { holder: String },
    #[error("not the claim holder")]
    NotClaimHolder,
    #[error("already decided")]
    AlreadyDecided,
    #[error("already approved by this reviewer")]
    AlreadyApproved,
    #[error("waiting for a new document")]
    WaitingForDocument,
    #[error("no reason given")]
    MissingReason,
    #[error("no note for the requester")]
    MissingNote,
    #[error("another live code or approval exists for this domain")]
    ConfirmationRequired,
    #[error("the signatory's rights were not confirmed in the register")]
    SignatoryNotConfirmed,
    #[error("registry hand-off failed: {0}")]
    Registry(#[from] crate::registry::RegistryError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("the document cannot be opened")]
    Unreadable,
    #[error("only the holder provides the holder's documents")]
    NotRequesterDocument,
}

pub fn short_id(id: Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

/// A value as stored (`"needs_document"`, `"id_front"`), if it is one.
pub fn parse<E: ActiveEnum<Value = String>>(text: &str) -> Option<E> {
    E::try_from_value(&text.to_owned()).ok()
}

/// Which identity document a person said they photographed: nothing said, or one of the
/// kinds the form offers.
pub fn said_document_type(typed: &str) -> Result<Option<IdDocumentType>, FieldProblem> {
    match typed.trim() {
        "" => Ok(None),
        typed => parse(typed)
            .map(Some)
            .ok_or(FieldProblem::IdDocumentTypeInvalid),
    }
}

/// The documents a requester provides (and can be asked for again); the holder's own are
/// uploaded on the holder's page.
pub const REQUESTER_DOCUMENTS: [DocumentKind; 3] = [
    DocumentKind::IdFront,
    DocumentKind::IdBack,
    DocumentKind::Authorization,
];

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

/// Requests created before this instant are past their retention and due to expire.
pub fn retention_cutoff(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(settings.retention_days)
}

/// A document's stored signals. Unreadable signals count as fired, so that they can only
/// make the four-eyes rule stricter, never looser.
pub(crate) fn parse_signals(json: &str) -> Signals {
    serde_json::from_str(json).unwrap_or(Signals {
        no_camera_data: true,
        ..Signals::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_signals_count_as_fired() {
        assert_eq!(parse_signals("not json").fired(), 1);
        let clean = Signals {
            camera: Some("FP5".into()),
            ..Signals::default()
        };
        assert_eq!(
            parse_signals(&serde_json::to_string(&clean).unwrap()).fired(),
            0
        );
    }

    #[test]
    fn short_ids_are_eight_hex_digits() {
        let id = Uuid::new_v4();
        assert_eq!(short_id(id).len(), 8);
        assert!(id.simple().to_string().starts_with(&short_id(id)));
    }

    #[test]
    fn stored_values_parse_back_and_nothing_else_does() {
        assert_eq!(
            parse::<RequestState>("needs_document"),
            Some(RequestState::NeedsDocument)
        );
        assert_eq!(parse::<DocumentKind>("id_back"), Some(DocumentKind::IdBack));
        assert_eq!(parse::<RequestState>("Submitted"), None);
        assert_eq!(parse::<RequesterRelation>(""), None);
    }
}
