//! The one place where errors become responses: an HTML page, or JSON under `/api/`.

use std::collections::BTreeMap;

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{catch, catchers, Catcher};
use rocket_dyn_templates::{context, Template};
use serde_json::json;

use crate::workflow::SubmitError;

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
    Invalid(BTreeMap<&'static str, String>),
    #[error("internal error: {0}")]
    Internal(String),
    /// A refusal with its own status and a message for the person.
    #[error("{1}")]
    Refused(Status, String),
    /// Too many submissions from one place or for one domain: try again after this long.
    #[error("too many requests")]
    TooMany(chrono::Duration),
}

impl From<SubmitError> for Error {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Invalid(errors) => Self::Invalid(super::wording::field_errors(&errors)),
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

/// What a person is told for each status: a title and a plain-words explanation.
pub(super) fn explain(status: Status) -> (&'static str, &'static str) {
    match status.code {
        404 => (
            "Not found",
            "There is nothing here. If you followed your tracking link, check that you copied all of it.",
        ),
        403 => (
            "Not allowed",
            "This form was sent from another site, or it expired. Please open the form again and resend it.",
        ),
        413 => (
            "Files too large",
            "Each file may be at most 20 MB, and all files together at most 45 MB. Nothing was stored. Please go back and choose smaller photos.",
        ),
        401 => ("Sign in", "Please sign in first."),
        409 => ("Already taken", "Someone else acted on this first. Please reload the page."),
        429 => ("Too many attempts", "Please wait a few minutes and try again."),
        415 => (
            "Unsupported format",
            "Requests are sent as multipart/form-data (a web form, or curl -F) with the fields domain, full_name, email, phone, relation, consent, id_front, id_back and authorization. Nothing was stored.",
        ),
        421 => (
            "Wrong address",
            "This service does not answer to that host name.",
        ),
        422 | 400 => (
            "Something is missing",
            "The request could not be understood. Please go back, check the form and send it again.",
        ),
        _ => (
            "Something went wrong on our side",
            "Nothing was stored. Please try again in a few minutes.",
        ),
    }
}

fn render(status: Status, req: &Request<'_>) -> response::Result<'static> {
    let (title, message) = explain(status);
    render_message(status, title, message, req)
}

fn render_message(
    status: Status,
    title: &str,
    message: &str,
    req: &Request<'_>,
) -> response::Result<'static> {
    if req.uri().path().starts_with("/api/") {
        (status, Json(json!({ "error": message }))).respond_to(req)
    } else {
        (
            status,
            Template::render("error", context! { title, message, code: status.code }),
        )
            .respond_to(req)
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        match self {
            Self::Internal(detail) => {
                tracing::error!(%detail, route = %crate::web::route_name(req), "request failed");
                render(status, req)
            }
            Self::Invalid(errors) if req.uri().path().starts_with("/api/") => {
                (status, Json(json!({ "errors": errors }))).respond_to(req)
            }
            Self::Refused(_, message) => render_message(status, explain(status).0, &message, req),
            Self::TooMany(wait) => {
                let minutes = wait.num_minutes().max(0) + 1;
                let message = format!(
                    "Many requests have come from your connection or for this domain in a short time. To protect the domain, please try again in {minutes} minutes. Nothing was stored."
                );
                let mut response = render_message(status, explain(status).0, &message, req)?;
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

/// How long a guard that refused with 429 asked the client to wait, for the catcher.
#[derive(Clone, Copy, Default)]
pub struct RetryAfter(pub Option<chrono::Duration>);

/// A bare status, rendered like any other error.
struct StatusPage(Status);

impl<'r> Responder<'r, 'static> for StatusPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
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
