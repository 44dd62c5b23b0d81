//! Reviewer authentication as guards: a handler that takes `ReviewerSession` or
//! `AdminSession` cannot run without a live session.

use chrono::Utc;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

use crate::accounts;
use crate::accounts::sessions::ActiveSession;
use crate::platform::config::review::PasskeyPolicy;
use crate::platform::crypto::SessionToken;
use crate::workflow::services::Services;

pub const SESSION_COOKIE: &str = "td_session";

pub fn set_session_cookie(jar: &CookieJar<'_>, session_id: &SessionToken, secure: bool) {
    jar.add_private(
        Cookie::build((SESSION_COOKIE, session_id.expose().to_owned()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/")
            // Gone when the browser closes; the session itself ends after 12 hours at most.
            .expires(None::<rocket::time::OffsetDateTime>),
    );
}

pub fn clear_session_cookie(jar: &CookieJar<'_>) {
    jar.remove_private(Cookie::build(SESSION_COOKIE).path("/"));
}

/// A signed-in, enabled reviewer whose session is within its idle and absolute limits, and
/// who may act: when passkeys are required, one who has none yet may only add one (the
/// refusal sends them to their account page).
pub struct ReviewerSession(pub ActiveSession);

/// Set when a session was refused because its reviewer must add a passkey first.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct PasskeyFirst(pub bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ReviewerSession {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let SignedIn(session) = try_outcome!(req.guard::<SignedIn>().await);
        let required = req
            .rocket()
            .state::<Services>()
            .is_some_and(|s| s.settings.staff_passkeys == PasskeyPolicy::Required);
        if required && session.passkeys == 0 {
            req.local_cache(|| PasskeyFirst(true));
            return Outcome::Error((Status::Forbidden, "a passkey must be added first"));
        }
        Outcome::Success(ReviewerSession(session))
    }
}

/// Any live session, also one that must add a passkey before it can do anything else: for
/// the account page, adding a passkey and signing out.
pub struct SignedIn(pub ActiveSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let loaded: &Result<ActiveSession, &'static str> = req
            .local_cache_async(async {
                let services = req
                    .guard::<&State<Services>>()
                    .await
                    .succeeded()
                    .ok_or("no services")?;
                let cookie = req
                    .cookies()
                    .get_private(SESSION_COOKIE)
                    .ok_or("no session cookie")?;
                let required = services.settings.staff_passkeys == PasskeyPolicy::Required;
                match accounts::sessions::load_session(&services.db, cookie.value(), Utc::now())
                    .await
                {
                    // Where passkeys are required, a session that never proved itself with
                    // one (begun with a password before the switch) ends.
                    Ok(Some(session)) if required && session.passkey_at.is_none() => {
                        if let Err(error) = accounts::sessions::logout(&services.db, &session).await
                        {
                            tracing::error!(%error, "cannot end a password-only session");
                        }
                        Err("a password-only session where passkeys are required")
                    }
                    Ok(Some(session)) => Ok(session),
                    Ok(None) => Err("the session ended or never existed"),
                    Err(error) => {
                        tracing::error!(%error, "cannot load a session");
                        Err("the session could not be loaded")
                    }
                }
            })
            .await;
        match loaded {
            Ok(session) => Outcome::Success(SignedIn(session.clone())),
            Err(why) => {
                tracing::debug!(route = %super::route_name(req), why, "no reviewer session");
                Outcome::Error((Status::Unauthorized, why))
            }
        }
    }
}

/// A reviewer session whose reviewer is an admin.
pub struct AdminSession(pub ActiveSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminSession {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let ReviewerSession(session) = try_outcome!(req.guard::<ReviewerSession>().await);
        if session.reviewer.is_admin {
            Outcome::Success(AdminSession(session))
        } else {
            tracing::warn!(reviewer = %session.reviewer.name, route = %super::route_name(req), "refused a non-admin");
            Outcome::Error((Status::Forbidden, "not an admin"))
        }
    }
}
