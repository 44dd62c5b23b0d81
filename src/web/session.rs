//! Reviewer authentication as guards: a handler that takes `ReviewerSession`,
//! `AdminSession` or `CsrfForm` cannot run without a live session (and a valid CSRF token).

use chrono::Utc;
use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

use super::guards::SameOrigin;
use crate::accounts::{self, ActiveSession};
use crate::crypto::TrackingToken;
use crate::services::Services;

pub const SESSION_COOKIE: &str = "td_session";

pub fn set_session_cookie(jar: &CookieJar<'_>, session_id: &TrackingToken, secure: bool) {
    jar.add_private(
        Cookie::build((SESSION_COOKIE, session_id.expose().to_owned()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/"),
    );
}

pub fn clear_session_cookie(jar: &CookieJar<'_>) {
    jar.remove_private(Cookie::build(SESSION_COOKIE).path("/"));
}

/// A signed-in, enabled reviewer whose session is within its idle and absolute limits.
pub struct ReviewerSession(pub ActiveSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ReviewerSession {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let loaded: &Option<ActiveSession> = req
            .local_cache_async(async {
                let services = req.guard::<&State<Services>>().await.succeeded()?;
                let cookie = req.cookies().get_private(SESSION_COOKIE)?;
                accounts::load_session(&services.db, cookie.value(), Utc::now())
                    .await
                    .ok()
                    .flatten()
            })
            .await;
        match loaded {
            Some(session) => Outcome::Success(ReviewerSession(session.clone())),
            None => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// A reviewer session whose reviewer is an admin.
pub struct AdminSession(pub ActiveSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminSession {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.guard::<ReviewerSession>().await {
            Outcome::Success(ReviewerSession(session)) if session.reviewer.is_admin => {
                Outcome::Success(AdminSession(session))
            }
            Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// A form that carries the session's CSRF token.
pub trait CarriesCsrf {
    fn csrf_token(&self) -> &str;
}

/// A reviewer's POSTed form, accepted only from this origin, with a live session, and
/// with the session's CSRF token.
pub struct CsrfForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfForm<T>
where
    T: FromForm<'r> + CarriesCsrf + Send + 'r,
{
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if !req.guard::<SameOrigin>().await.is_success() {
            return data::Outcome::Error((Status::Forbidden, ()));
        }
        let ReviewerSession(session) = match req.guard::<ReviewerSession>().await {
            Outcome::Success(session) => session,
            _ => return data::Outcome::Error((Status::Unauthorized, ())),
        };
        match Form::<T>::from_data(req, data).await {
            data::Outcome::Success(form) if session.csrf_matches(form.csrf_token()) => {
                data::Outcome::Success(CsrfForm(form.into_inner()))
            }
            data::Outcome::Success(_) => data::Outcome::Error((Status::Forbidden, ())),
            data::Outcome::Error((status, _)) => data::Outcome::Error((status, ())),
            data::Outcome::Forward(forward) => data::Outcome::Forward(forward),
        }
    }
}
