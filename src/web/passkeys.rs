//! Passkeys in the browser: adding and removing one on the account page, signing in with
//! one, and the step-up asked for before an action that gives a domain away. The ceremony
//! endpoints take URL-encoded forms (CSRF-checked like every form) from `static/passkeys.js`
//! and answer JSON; the passkey itself is asked by the browser.

use chrono::Utc;
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::serde::json::{json, Json, Value};
use rocket::{post, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use super::cookies::SecureCookies;
use super::csrf::{carries_csrf, CsrfForm, FormToken};
use super::error::Error;
use super::guards::ClientAddr;
use super::session::{clear_session_cookie, set_session_cookie, ReviewerSession, SignedIn};
use super::{page, Chosen};
use crate::accounts::passkeys::{self, PasskeyError};
use crate::accounts::{self, ActiveSession, CurrentPassword};
use crate::audit::Action;
use crate::crypto::CeremonyToken;
use crate::i18n::Lang;
use crate::services::Services;

pub fn routes() -> Vec<Route> {
    routes![
        register_start,
        register_finish,
        remove,
        sign_in_start,
        sign_in_finish,
        step_up_start,
        step_up_finish,
    ]
}

type UrlEncoded<T> = CsrfForm<Form<T>>;

/// A passkey answer is a few kilobytes of JSON.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(FromForm)]
struct Start {
    csrf_token: String,
}

#[derive(FromForm)]
struct Finish {
    csrf_token: String,
    #[field(validate = len(..=100))]
    ceremony: String,
    #[field(validate = len(..=MAX_ANSWER_BYTES))]
    credential: String,
    #[field(validate = len(..=passkeys::MAX_NAME_CHARS * 4))]
    name: Option<String>,
}

#[derive(FromForm)]
struct Removal {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    current: String,
}

carries_csrf!(Start, Finish, Removal);

/// A refusal the page shows in words, as JSON with its status.
fn refusal(error: PasskeyError, lang: Lang) -> Result<(Status, Json<Value>), Error> {
    let key = match &error {
        PasskeyError::Database(_) | PasskeyError::Setup(_) => {
            return Err(Error::Internal(error.to_string()))
        }
        PasskeyError::CeremonyGone => "passkey-ceremony-gone",
        PasskeyError::InvalidName => "passkey-name-invalid",
        PasskeyError::CounterWentBack => "passkey-cloned",
        PasskeyError::Disabled | PasskeyError::UnknownPasskey => "passkey-unknown",
        PasskeyError::Refused(_) | PasskeyError::Malformed | PasskeyError::AlreadyRegistered => {
            "passkey-refused"
        }
    };
    tracing::warn!(%error, "passkey refused");
    Ok((
        Status::UnprocessableEntity,
        Json(json!({ "error": lang.t(key) })),
    ))
}

/// The JSON answer of a ceremony endpoint: `ok`'s body, or the refusal in words.
fn answer<T>(
    outcome: Result<T, PasskeyError>,
    lang: Lang,
    ok: impl FnOnce(T) -> Value,
) -> Result<(Status, Json<Value>), Error> {
    match outcome {
        Ok(done) => Ok((Status::Ok, Json(ok(done)))),
        Err(error) => refusal(error, lang),
    }
}

fn ceremony_of(form: &Finish) -> Result<CeremonyToken, PasskeyError> {
    CeremonyToken::parse(&form.ceremony).ok_or(PasskeyError::CeremonyGone)
}

fn started<T: serde::Serialize>(started: passkeys::Started<T>) -> Value {
    json!({ "ceremony": started.ceremony.expose(), "options": started.options })
}

#[post("/passkeys/register/start", format = "form", data = "<_form>")]
async fn register_start(
    session: SignedIn,
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let outcome =
        passkeys::start_registration(&services.passkeys, &services.db, &session.0, Utc::now())
            .await;
    answer(outcome, chosen.lang, started)
}

#[post("/passkeys/register/finish", format = "form", data = "<form>")]
async fn register_finish(
    session: SignedIn,
    form: UrlEncoded<Finish>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let finished = async {
        passkeys::finish_registration(
            &services.passkeys,
            &services.db,
            &session.0,
            &ceremony_of(&form)?,
            form.name.as_deref().unwrap_or_default(),
            &form.credential,
            Utc::now(),
        )
        .await
    }
    .await;
    answer(
        finished,
        chosen.lang,
        |entry| json!({ "next": "/review/account", "name": entry.name }),
    )
}

/// Removes one of one's own passkeys, after the current password.
#[post("/passkeys/<id>/remove", format = "form", data = "<form>")]
async fn remove(
    id: Option<Uuid>,
    session: SignedIn,
    form: UrlEncoded<Removal>,
    chosen: Chosen,
    client: ClientAddr,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let back = Redirect::to("/review/account#passkeys");
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let current = form.0.into_inner().current;
    let refused = Action::PasskeyRemoved;
    let checked = accounts::confirm_current_password(
        &services.db,
        &services.throttle,
        &session.0,
        &current,
        &address,
        refused,
    )
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    match checked {
        CurrentPassword::Right => {}
        CurrentPassword::Wrong => {
            return Ok(Flash::error(back, chosen.lang.t("password-current-wrong")))
        }
        CurrentPassword::SignedOut => {
            clear_session_cookie(jar);
            return Ok(Flash::error(
                Redirect::to("/review/login"),
                chosen.lang.t("password-current-wrong"),
            ));
        }
    }
    if !passkeys::remove(&services.db, &session.0.reviewer, id).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(back, chosen.lang.t("passkey-removed")))
}

#[post("/passkeys/sign-in/start", format = "form", data = "<_form>")]
async fn sign_in_start(
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let outcome = passkeys::start_sign_in(&services.passkeys, &services.db, Utc::now()).await;
    answer(outcome, chosen.lang, started)
}

#[post("/passkeys/sign-in/finish", format = "form", data = "<form>")]
async fn sign_in_finish(
    form: UrlEncoded<Finish>,
    chosen: Chosen,
    client: ClientAddr,
    secure: SecureCookies,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let signed_in = async {
        passkeys::finish_sign_in(
            &services.passkeys,
            &services.db,
            &ceremony_of(&form)?,
            &form.credential,
            &address,
            Utc::now(),
        )
        .await
    }
    .await;
    match signed_in {
        Ok((_, session_id)) => {
            set_session_cookie(jar, &session_id, secure.0);
            Ok((Status::Ok, Json(json!({ "next": "/review" }))))
        }
        Err(error) => {
            crate::meters::failed_sign_in();
            refusal(error, chosen.lang)
        }
    }
}

#[post("/passkeys/step-up/start", format = "form", data = "<_form>")]
async fn step_up_start(
    session: ReviewerSession,
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let outcome =
        passkeys::start_step_up(&services.passkeys, &services.db, &session.0, Utc::now()).await;
    answer(outcome, chosen.lang, started)
}

#[post("/passkeys/step-up/finish", format = "form", data = "<form>")]
async fn step_up_finish(
    session: ReviewerSession,
    form: UrlEncoded<Finish>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let finished = async {
        passkeys::finish_step_up(
            &services.passkeys,
            &services.db,
            &session.0,
            &ceremony_of(&form)?,
            &form.credential,
            Utc::now(),
        )
        .await
    }
    .await;
    answer(finished, chosen.lang, |()| json!({ "stepped_up": true }))
}

/// Whether an action that gives a domain away, or changes another reviewer, must wait for
/// the passkey: the reviewer has one and has not used it in this session for five minutes.
pub fn step_up_needed(session: &ActiveSession) -> bool {
    session.passkeys > 0 && !passkeys::stepped_up(session, Utc::now())
}

/// The page that asks for the passkey, then sends the reviewer's form (`fields`, as they
/// were posted) to `action` again: nothing chosen or typed is lost.
pub fn step_up_page(
    me: &entities::reviewer::Model,
    chosen: &Chosen,
    token: &FormToken,
    action: &str,
    fields: Vec<(&'static str, String)>,
) -> (Status, Template) {
    let context = context! {
        me: &me.name, is_admin: me.is_admin, csrf_token: token.as_str(), action, fields,
    };
    (Status::Forbidden, page("review_step_up", chosen, context))
}
