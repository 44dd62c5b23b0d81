//! The one place where errors become responses: an HTML page, or JSON under `/api/`.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{catch, catchers, Catcher};
use rocket_dyn_templates::context;
use serde_json::json;

use super::forms::UploadError;
use super::guards::RetryAfter;
use super::language::{chosen_lang, Chosen};
use super::session::PasskeyFirst;
use crate::platform::i18n::Text;
use crate::workflow::{FieldErrors, ReviewError, SubmitError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("payload too large")]
    TooLarge,
    #[error("bad request")]
    BadRequest,
    #[error("invalid submission")]
    Invalid(FieldErrors),
    #[error("internal error: {0}")]
    Internal(String),
    /// A refusal with its own status and a message for the person.
    #[error("refused: {}", .1.key)]
    Refused(Status, Text),
    /// Too many submissions from one place or for one domain: try again after this long.
    #[error("too many requests")]
    TooMany(chrono::Duration),
}

impl From<SubmitError> for Error {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::NotFound => Self::NotFound,
            SubmitError::Invalid(errors) => Self::Invalid(errors),
            SubmitError::TooMany { retry_after } => Self::TooMany(retry_after),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(format!("database: {error}"))
    }
}

impl Error {
    fn status(&self) -> Status {
        match self {
            Self::NotFound => Status::NotFound,
            Self::Forbidden => Status::Forbidden,
            Self::TooLarge => Status::PayloadTooLarge,
            Self::BadRequest => Status::BadRequest,
            Self::Invalid(_) => Status::UnprocessableEntity,
            Self::Internal(_) => Status::InternalServerError,
            Self::Refused(status, _) => *status,
            Self::TooMany(_) => Status::TooManyRequests,
        }
    }
}

/// The message keys of what a person is told for each status: a title and an explanation.
pub(super) fn explain(status: Status) -> (&'static str, &'static str) {
    match status.code {
        404 => ("error-404-title", "error-404"),
        403 => ("error-403-title", "error-403"),
        413 => ("error-413-title", "error-413"),
        401 => ("error-401-title", "error-401"),
        409 => ("error-409-title", "error-409"),
        429 => ("error-429-title", "error-429"),
        415 => ("error-415-title", "error-415"),
        421 => ("error-421-title", "error-421"),
        422 | 400 => ("error-400-title", "error-400"),
        408 => ("error-408-title", "error-upload-too-slow"),
        _ => ("error-500-title", "error-500"),
    }
}

fn render(status: Status, req: &Request<'_>) -> response::Result<'static> {
    render_message(status, Text::new(explain(status).1), req)
}

fn render_message(status: Status, message: Text, req: &Request<'_>) -> response::Result<'static> {
    let lang = chosen_lang(req);
    let message = message.in_lang(lang);
    if req.uri().path().starts_with("/api/") {
        (status, Json(json!({ "error": message }))).respond_to(req)
    } else {
        let title = lang.t(explain(status).0);
        let chosen = Chosen {
            lang,
            here: "/".into(),
        };
        let page = super::page(
            "error",
            &chosen,
            context! { title, message, code: status.code },
        );
        (status, page).respond_to(req)
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        match self {
            Self::Internal(detail) => {
                tracing::error!(
                    %detail,
                    route = %crate::web::route_name(req),
                    "request failed"
                );
                render(status, req)
            }
            Self::Invalid(errors) if req.uri().path().starts_with("/api/") => {
                let errors = super::wording::field_errors(&errors, chosen_lang(req));
                (status, Json(json!({ "errors": errors }))).respond_to(req)
            }
            Self::Refused(_, message) => render_message(status, message, req),
            Self::TooMany(wait) => {
                let minutes = wait.num_minutes().max(0) + 1;
                let message = Text::new("error-too-many").with("minutes", minutes);
                let mut response = render_message(status, message, req)?;
                response.set_header(rocket::http::Header::new(
                    "Retry-After",
                    (wait.num_seconds().max(0) + 1).to_string(),
                ));
                Ok(response)
            }
            _ => render(status, req),
        }
    }
}

/// A bare status, rendered like any other error.
struct StatusPage(Status);

impl<'r> Responder<'r, 'static> for StatusPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        if *req.local_cache(PasskeyFirst::default) == PasskeyFirst(true) {
            return rocket::response::Redirect::to("/review/account#passkeys").respond_to(req);
        }
        match req.local_cache(RetryAfter::default) {
            RetryAfter(Some(wait)) if self.0 == Status::TooManyRequests => {
                Error::TooMany(*wait).respond_to(req)
            }
            _ => render(self.0, req),
        }
    }
}

#[catch(default)]
fn any_status(status: Status, _req: &Request<'_>) -> StatusPage {
    StatusPage(status)
}

pub fn catchers() -> Vec<Catcher> {
    catchers![any_status]
}

/// What a reviewer is told when a decision or claim does not go through.
impl From<ReviewError> for Error {
    fn from(error: ReviewError) -> Self {
        let conflict = |message: Text| Error::Refused(Status::Conflict, message);
        let correct =
            |key: &'static str| Error::Refused(Status::UnprocessableEntity, Text::new(key));
        match error {
            ReviewError::NotFound => Error::NotFound,
            ReviewError::ClaimedByOther { holder } => {
                conflict(Text::new("review-claimed-by-other").with("holder", holder))
            }
            ReviewError::NotClaimHolder => conflict(Text::new("review-not-claim-holder")),
            ReviewError::AlreadyDecided => conflict(Text::new("review-already-decided")),
            ReviewError::AlreadyApproved => conflict(Text::new("review-already-approved")),
            ReviewError::WaitingForDocument => conflict(Text::new("review-waiting-for-document")),
            ReviewError::MissingReason => correct("review-missing-reason"),
            ReviewError::MissingNote => correct("review-missing-note"),
            ReviewError::ConfirmationRequired => correct("review-confirmation-required"),
            ReviewError::SignatoryNotConfirmed => correct("review-signatory-not-confirmed"),
            ReviewError::Registry(detail) => Error::Refused(
                Status::BadGateway,
                Text::new("review-registry-failed").with("detail", detail.to_string()),
            ),
            ReviewError::NotRequesterDocument => correct("review-not-requester-document"),
            ReviewError::Database(e) => e.into(),
            ReviewError::Unreadable => Error::Internal(error.to_string()),
        }
    }
}

impl From<UploadError> for Error {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::NotMultipart => Error::Refused(
                Status::UnsupportedMediaType,
                Text::new(super::error::explain(Status::UnsupportedMediaType).1),
            ),
            UploadError::FieldTooLarge(field)
                if !super::forms::FILE_FIELDS.contains(&field.as_str()) =>
            {
                Error::Refused(
                    Status::PayloadTooLarge,
                    Text::new("error-field-too-long").with("field", field),
                )
            }
            UploadError::FieldTooLarge(_) | UploadError::BodyTooLarge => Error::TooLarge,
            UploadError::Malformed(_) => Error::BadRequest,
            UploadError::TooSlow => {
                Error::Refused(Status::RequestTimeout, Text::new("error-upload-too-slow"))
            }
        }
    }
}
