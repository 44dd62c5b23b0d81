//! The reviewers' pages, by what each is for: signing in (`sign_in`), the queue (`queue`),
//! one request and its decisions (`request`), and what admins read (`admin`).

mod admin;
mod queue;
mod request;
mod sign_in;

use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use rocket::{catch, catchers, routes, uri, Catcher, Route};
use uuid::Uuid;

use super::csrf::{carries_csrf, CsrfForm};
use super::error::Error;
use super::session::ReviewerSession;
use super::Chosen;
use crate::platform::i18n::Lang;
use crate::workflow::{RequestId, ReviewError};

pub(super) use sign_in::{enrol_next, link_page};

pub fn routes() -> Vec<Route> {
    routes![
        sign_in::login_page,
        sign_in::login,
        sign_in::logout,
        sign_in::setup_page,
        sign_in::setup,
        queue::queue_page,
        queue::claim_next,
        request::review_page,
        request::claim,
        request::release,
        request::document,
        request::approve,
        request::reject,
        request::request_document,
        request::send_message,
        request::objection_handled,
        request::registry_refusal_handled,
        request::withdraw,
        admin::outbox,
        admin::audit_trail,
        admin::audit_proof,
    ]
}

pub fn catchers() -> Vec<Catcher> {
    catchers![sign_in_first]
}

#[catch(401)]
fn sign_in_first() -> Redirect {
    Redirect::to("/review/login")
}

/// A decision the reviewer can correct on the same page comes back there as a message;
/// anything else is an error page.
pub(super) fn back_with(
    id: RequestId,
    error: ReviewError,
    lang: Lang,
) -> Result<Flash<Redirect>, Error> {
    match error {
        ReviewError::MissingReason
        | ReviewError::MissingNote
        | ReviewError::ConfirmationRequired
        | ReviewError::SignatoryNotConfirmed
        | ReviewError::NotRequesterDocument => match Error::from(error) {
            Error::Refused(_, message) => Ok(Flash::error(back_to(id), message.in_lang(lang))),
            other => Err(other),
        },
        other => Err(other.into()),
    }
}

/// What every action on one request starts from: the request's id (from the path), the
/// signed-in reviewer and their language. Without a live session the action is refused
/// (401, the sign-in page); a malformed id is a 404 like an unknown one.
pub(super) struct OnRequest {
    pub id: RequestId,
    pub me: entities::reviewer::Model,
    pub lang: Lang,
    /// The reviewer must use their passkey before giving the domain away.
    pub step_up_needed: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OnRequest {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let ReviewerSession(session) = try_outcome!(req.guard::<ReviewerSession>().await);
        // The routes are `/requests/<_>/…` under `/review`: the id is the second segment.
        let Some(Ok(id)) = req.param::<Uuid>(1) else {
            return Outcome::Error((Status::NotFound, "not a request id"));
        };
        let lang = match req.guard::<Chosen>().await {
            Outcome::Success(chosen) => chosen.lang,
            _ => Lang::default(),
        };
        Outcome::Success(OnRequest {
            id: RequestId(id),
            step_up_needed: super::passkeys::step_up_needed(&session),
            me: session.reviewer,
            lang,
        })
    }
}

/// The answer to a reviewer's action: back to the request saying `done` in the reviewer's
/// language, or what went wrong.
pub(super) fn after(
    id: RequestId,
    result: Result<(), ReviewError>,
    done: &str,
    lang: Lang,
) -> Result<Flash<Redirect>, Error> {
    match result {
        Ok(()) => Ok(Flash::success(back_to(id), lang.t(done))),
        Err(error) => back_with(id, error, lang),
    }
}

/// A form with nothing but the CSRF token.
#[derive(FromForm)]
pub(super) struct Plain {
    pub(super) csrf_token: String,
}

carries_csrf!(Plain);

/// Sign-in and setup take URL-encoded forms only (a multipart body is refused before it is
/// read), so every field is bounded by the `form` limit.
pub(super) type UrlEncoded<T> = CsrfForm<Form<T>>;

pub(super) fn back_to(id: RequestId) -> Redirect {
    Redirect::to(uri!("/review", request::review_page(id.0)))
}
