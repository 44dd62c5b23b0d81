//! Passkeys in the browser: adding and removing one on the account page, enrolling one
//! through a one-time link, signing in with one, and the step-up asked for before an action
//! that gives a domain away. The ceremony endpoints take URL-encoded forms (CSRF-checked like
//! every form) from `static/passkeys.js` and answer JSON; the passkey itself is asked by the
//! browser.

use chrono::Utc;
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use super::cookies::SecureCookies;
use super::csrf::{carries_csrf, CsrfForm, FormToken};
use super::error::Error;
use super::guards::ClientAddr;
use super::session::{clear_session_cookie, set_session_cookie, ReviewerSession, SignedIn};
use super::{page, Chosen};
use crate::accounts::passkeys::{self, ChangeKind, Enroller, PasskeyChange, PasskeyError};
use crate::accounts::sessions::ActiveSession;
use crate::accounts::{self, CurrentPassword};
use crate::evidence::audit::Action;
use crate::platform::crypto::{CeremonyToken, PasswordLinkToken};
use crate::platform::i18n::Lang;
use crate::workflow::services::Services;

pub fn routes() -> Vec<Route> {
    routes![
        register_start,
        register_finish,
        enrol_page,
        enrol_start,
        enrol_finish,
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

/// The start of adding a passkey: its name, checked before the device is asked; the current
/// password for an account's first passkey; the one-time link when enrolling through one.
#[derive(FromForm)]
struct RegistrationStart {
    csrf_token: String,
    #[field(validate = len(..=passkeys::MAX_NAME_CHARS * 4))]
    name: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    current: Option<String>,
    #[field(validate = len(..=100))]
    link: Option<String>,
}

#[derive(FromForm)]
struct Finish {
    csrf_token: String,
    #[field(validate = len(..=100))]
    ceremony: String,
    #[field(validate = len(..=MAX_ANSWER_BYTES))]
    credential: String,
    #[field(validate = len(..=100))]
    link: Option<String>,
}

carries_csrf!(Start, RegistrationStart, Finish);

/// A refusal the page shows in words, as JSON with its status.
fn refusal(error: PasskeyError, lang: Lang) -> Result<(Status, Json<Value>), Error> {
    let key = match &error {
        PasskeyError::Database(_) | PasskeyError::Setup(_) => {
            return Err(Error::Internal(error.to_string()))
        }
        PasskeyError::CeremonyGone => "passkey-ceremony-gone",
        PasskeyError::InvalidName => "passkey-name-invalid",
        PasskeyError::NameTaken => "passkey-name-taken",
        PasskeyError::PasswordNeeded => "passkey-password-needed",
        PasskeyError::EnrolmentLinkNeeded => "passkey-link-needed",
        // The page answers this one by asking for an existing passkey, then starting again.
        PasskeyError::StepUpNeeded => {
            return Ok((
                Status::Forbidden,
                Json(json!({ "error": lang.t("passkey-step-up-needed"), "step_up": true })),
            ))
        }
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

/// Tells the reviewer and the staff address that a passkey was added or removed: a passkey
/// nobody meant to add is seen the same day.
pub(super) async fn tell(services: &Services, change: &PasskeyChange) {
    if let Err(error) = crate::mail::tell_passkey_change(services.mailer(), change).await {
        tracing::error!(%error, "cannot queue the passkey notice");
    }
}

#[post("/passkeys/register/start", format = "form", data = "<form>")]
async fn register_start(
    session: SignedIn,
    form: UrlEncoded<RegistrationStart>,
    chosen: Chosen,
    client: ClientAddr,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let password_confirmed = match form.current.as_deref().filter(|c| !c.is_empty()) {
        None => false,
        Some(current) => match current_password(&session.0, current, &client, services).await? {
            CurrentPassword::Right => true,
            CurrentPassword::Wrong => return wrong_password(chosen.lang),
            CurrentPassword::SignedOut => {
                clear_session_cookie(jar);
                return wrong_password(chosen.lang);
            }
        },
    };
    let enroller = Enroller::Session {
        session: &session.0,
        password_confirmed,
    };
    let outcome = passkeys::start_registration(
        &services.passkeys,
        &services.db,
        &enroller,
        &form.name,
        Utc::now(),
    )
    .await;
    answer(outcome, chosen.lang, started)
}

async fn current_password(
    session: &ActiveSession,
    current: &str,
    client: &ClientAddr,
    services: &Services,
) -> Result<CurrentPassword, Error> {
    let address = client.0.clone().unwrap_or_else(|| "unknown".into());
    accounts::confirm_current_password(
        &services.db,
        &services.throttle,
        session,
        current,
        &address,
        Action::PasskeyRefused,
    )
    .await
    .map_err(|e| Error::Internal(e.to_string()))
}

fn wrong_password(lang: Lang) -> Result<(Status, Json<Value>), Error> {
    Ok((
        Status::UnprocessableEntity,
        Json(json!({ "error": lang.t("password-current-wrong") })),
    ))
}

#[post("/passkeys/register/finish", format = "form", data = "<form>")]
async fn register_finish(
    session: SignedIn,
    form: UrlEncoded<Finish>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let enroller = Enroller::Session {
        session: &session.0,
        password_confirmed: false,
    };
    let finished = finish(services, &enroller, &form).await;
    answer(
        finished,
        chosen.lang,
        |name| json!({ "next": "/review/account", "name": name }),
    )
}

/// Finishes adding a passkey and tells of it; the passkey's name.
async fn finish(
    services: &Services,
    enroller: &Enroller<'_>,
    form: &Finish,
) -> Result<String, PasskeyError> {
    let change = passkeys::finish_registration(
        &services.passkeys,
        &services.db,
        enroller,
        &ceremony_of(form)?,
        &form.credential,
        Utc::now(),
    )
    .await?;
    tell(services, &change).await;
    Ok(match change.what {
        ChangeKind::Added(name) | ChangeKind::Removed(name) => name,
        ChangeKind::AllRemoved(count) => count.to_string(),
    })
}

/// The reviewer a usable enrolment link is for.
async fn enrolment_link(
    services: &Services,
    link: Option<&str>,
) -> Result<(PasswordLinkToken, entities::reviewer::Model), Error> {
    let link = link
        .and_then(PasswordLinkToken::parse)
        .ok_or(Error::NotFound)?;
    let holder = accounts::enrolment_link_holder(&services.db, &link)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((link, holder))
}

/// The page of a one-time enrolment link: the reviewer names the passkey and adds it.
#[get("/enrol/<link>")]
async fn enrol_page(
    link: &str,
    token: FormToken,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let (link, holder) = enrolment_link(services, Some(link)).await?;
    let optional =
        services.passkeys.policy == crate::platform::config::review::PasskeyPolicy::Optional;
    Ok(page(
        "review_enrol",
        &chosen,
        context! {
            csrf_token: token.as_str(), link: link.expose(), name: &holder.name, optional,
        },
    ))
}

#[post("/passkeys/enrol/start", format = "form", data = "<form>")]
async fn enrol_start(
    form: UrlEncoded<RegistrationStart>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let (link, reviewer) = enrolment_link(services, form.link.as_deref()).await?;
    let enroller = Enroller::Link {
        link: &link,
        reviewer: &reviewer,
    };
    let outcome = passkeys::start_registration(
        &services.passkeys,
        &services.db,
        &enroller,
        &form.name,
        Utc::now(),
    )
    .await;
    answer(outcome, chosen.lang, started)
}

#[post("/passkeys/enrol/finish", format = "form", data = "<form>")]
async fn enrol_finish(
    form: UrlEncoded<Finish>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let form = form.0.into_inner();
    let (link, reviewer) = enrolment_link(services, form.link.as_deref()).await?;
    let enroller = Enroller::Link {
        link: &link,
        reviewer: &reviewer,
    };
    let finished = finish(services, &enroller, &form).await;
    answer(
        finished,
        chosen.lang,
        |name| json!({ "next": "/review/login", "name": name }),
    )
}

/// Removes one of one's own passkeys, after a fresh step-up with a passkey (the password is
/// not enough: whoever holds the session may know it).
#[post("/passkeys/<id>/remove", format = "form", data = "<_form>")]
async fn remove(
    id: Option<Uuid>,
    session: SignedIn,
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    token: FormToken,
    services: &State<Services>,
) -> Result<Either<(Status, Template), Flash<Redirect>>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let removed = passkeys::remove(&services.db, &session.0, id, Utc::now()).await;
    match removed {
        Ok(Some(change)) => {
            tell(services, &change).await;
            let back = Redirect::to("/review/account#passkeys");
            Ok(Either::Right(Flash::success(
                back,
                chosen.lang.t("passkey-removed"),
            )))
        }
        Ok(None) => Err(Error::NotFound),
        Err(PasskeyError::StepUpNeeded) => {
            let action = format!("/review/passkeys/{id}/remove");
            let me = &session.0.reviewer;
            Ok(Either::Left(step_up_page(
                me,
                &chosen,
                &token,
                &action,
                vec![],
            )))
        }
        Err(PasskeyError::Database(e)) => Err(e.into()),
        Err(other) => Err(Error::Internal(other.to_string())),
    }
}

#[post("/passkeys/sign-in/start", format = "form", data = "<_form>")]
async fn sign_in_start(
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let outcome =
        passkeys::sign_in::start_sign_in(&services.passkeys, &services.db, Utc::now()).await;
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
        passkeys::sign_in::finish_sign_in(
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
        Err(PasskeyError::UnknownPasskey) => {
            crate::platform::meters::failed_sign_in();
            let (status, Json(mut body)) = refusal(PasskeyError::UnknownPasskey, chosen.lang)?;
            // The browser may tell the device to forget a passkey this desk does not know
            // (WebAuthn's signalUnknownCredential), so it stops offering it.
            if let Some(id) = credential_id(&form.credential) {
                body["unknown_credential"] =
                    json!({ "rpId": services.passkeys.rp_id, "credentialId": id });
            }
            Ok((status, Json(body)))
        }
        Err(error) => {
            crate::platform::meters::failed_sign_in();
            refusal(error, chosen.lang)
        }
    }
}

/// The credential id a passkey's answer names (base64url), when it is one.
fn credential_id(answer: &str) -> Option<String> {
    let answer: Value = serde_json::from_str(answer).ok()?;
    let id = answer.get("id")?.as_str()?;
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    (!id.is_empty() && id.len() <= 1400 && id.chars().all(base64url)).then(|| id.to_owned())
}

#[post("/passkeys/step-up/start", format = "form", data = "<_form>")]
async fn step_up_start(
    session: ReviewerSession,
    _form: UrlEncoded<Start>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let outcome =
        passkeys::sign_in::start_step_up(&services.passkeys, &services.db, &session.0, Utc::now())
            .await;
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
        passkeys::sign_in::finish_step_up(
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
