//! The reviewer's pages: sign-in, first-admin setup, queue, review, documents, decisions,
//! and the admin's audit trail. Every URL of the staff audience is here.

use chrono::Utc;
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, CookieJar, Header, Status};
use rocket::request::{FlashMessage, Request};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket::{catch, catchers, get, post, routes, uri, Catcher, Route, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use super::error::Error;
use super::guards::{ClientAddr, CsrfToken, SameOrigin};
use super::session::{
    clear_session_cookie, set_session_cookie, AdminSession, CarriesCsrf, CsrfForm, ReviewerSession,
};
use crate::accounts::{self, LoginOutcome};
use crate::audit::{self, AuditFilter};
use crate::crypto::TrackingToken;
use crate::services::Services;
use crate::workflow::review::{self, ApproveOutcome, QueueFilter, ReviewError};
use crate::workflow::{DocumentKind, RequestState};

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        setup_page,
        setup,
        queue,
        claim_next,
        review_page,
        claim,
        release,
        document,
        approve,
        reject,
        request_document,
        audit_trail,
    ]
}

pub fn catchers() -> Vec<Catcher> {
    catchers![sign_in_first]
}

#[catch(401)]
fn sign_in_first() -> Redirect {
    Redirect::to("/review/login")
}

impl From<ReviewError> for Error {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::NotFound => Error::NotFound,
            ReviewError::Database(e) => e.into(),
            ReviewError::Unreadable => Error::Internal(error.to_string()),
            ReviewError::Registry(_) => {
                Error::Refused(Status::BadGateway, capitalise(&error.to_string()))
            }
            ReviewError::Invalid(message) => Error::Refused(Status::UnprocessableEntity, message),
            other => Error::Refused(Status::Conflict, capitalise(&other.to_string())),
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A form with nothing but the CSRF token.
#[derive(FromForm)]
struct Plain {
    csrf_token: String,
}

impl CarriesCsrf for Plain {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(FromForm)]
struct LoginForm {
    csrf_token: String,
    name: String,
    password: String,
}

fn login_template(csrf: &CsrfToken, name: &str, message: Option<&str>) -> Template {
    Template::render(
        "review_login",
        context! { csrf_token: csrf.as_str(), name, message },
    )
}

#[get("/login")]
fn login_page(csrf: CsrfToken) -> Template {
    login_template(&csrf, "", None)
}

#[post("/login", data = "<form>")]
async fn login(
    _same_origin: SameOrigin,
    csrf: CsrfToken,
    client: ClientAddr,
    jar: &CookieJar<'_>,
    services: &State<Services>,
    form: Form<LoginForm>,
) -> Result<Result<Redirect, (Status, Template)>, Error> {
    if !csrf.matches(Some(&form.csrf_token)) {
        return Err(Error::Forbidden);
    }
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let outcome = accounts::login(
        &services.db,
        &services.throttle,
        form.name.trim(),
        &form.password,
        &address,
    )
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    match outcome {
        LoginOutcome::Success { session_id, .. } => {
            let secure = services
                .settings
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"));
            set_session_cookie(jar, &session_id, secure);
            Ok(Ok(Redirect::to("/review")))
        }
        LoginOutcome::Refused => Ok(Err((
            Status::Unauthorized,
            login_template(&csrf, form.name.trim(), Some("Wrong name or password.")),
        ))),
        LoginOutcome::Throttled {
            retry_after_minutes,
        } => Ok(Err((
            Status::TooManyRequests,
            login_template(
                &csrf,
                form.name.trim(),
                Some(&format!(
                    "Too many failed sign-ins. Please try again in {retry_after_minutes} minutes."
                )),
            ),
        ))),
    }
}

#[post("/logout", data = "<_checked>")]
async fn logout(
    session: ReviewerSession,
    _checked: CsrfForm<Plain>,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    accounts::logout(&services.db, &session.0).await?;
    clear_session_cookie(jar);
    Ok(Redirect::to("/review/login"))
}

#[derive(FromForm)]
struct SetupForm {
    csrf_token: String,
    name: String,
    password: String,
    password_again: String,
}

#[get("/setup/<token>")]
async fn setup_page(
    token: &str,
    csrf: CsrfToken,
    services: &State<Services>,
) -> Result<Template, Error> {
    let token = TrackingToken::parse(token).ok_or(Error::NotFound)?;
    if !accounts::setup_link_valid(&services.db, &token).await? {
        return Err(Error::NotFound);
    }
    Ok(Template::render(
        "review_setup",
        context! { csrf_token: csrf.as_str(), token: token.expose(), name: "", message: None::<String> },
    ))
}

#[post("/setup/<token>", data = "<form>")]
async fn setup(
    token: &str,
    _same_origin: SameOrigin,
    csrf: CsrfToken,
    services: &State<Services>,
    form: Form<SetupForm>,
) -> Result<Result<Redirect, (Status, Template)>, Error> {
    if !csrf.matches(Some(&form.csrf_token)) {
        return Err(Error::Forbidden);
    }
    let token = TrackingToken::parse(token).ok_or(Error::NotFound)?;
    let again = |message: String| {
        Ok(Err((
            Status::UnprocessableEntity,
            Template::render(
                "review_setup",
                context! { csrf_token: csrf.as_str(), token: token.expose(), name: form.name.trim(), message },
            ),
        )))
    };
    if form.password != form.password_again {
        return again("The two passwords differ.".into());
    }
    match accounts::complete_setup(&services.db, &token, form.name.trim(), &form.password).await {
        Ok(Some(_)) => {
            let _ = std::fs::remove_file(services.settings.data_dir.join(super::SETUP_LINK_FILE));
            Ok(Ok(Redirect::to("/review/login")))
        }
        Ok(None) => Err(Error::NotFound),
        Err(accounts::AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(capitalise(&other.to_string()) + "."),
    }
}

#[get("/?<state>&<domain>&<mine>")]
async fn queue(
    session: ReviewerSession,
    state: Option<&str>,
    domain: Option<&str>,
    mine: Option<bool>,
    flash: Option<FlashMessage<'_>>,
    services: &State<Services>,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let filter = QueueFilter {
        state: state.and_then(RequestState::parse),
        domain: domain.map(str::to_owned),
        mine: mine.unwrap_or(false),
    };
    let items = review::queue(&services.db, &filter, me, Utc::now()).await?;
    let states: Vec<&str> = RequestState::ALL.iter().map(|s| s.as_str()).collect();
    Ok(Template::render(
        "review_queue",
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token,
            items, states, state: state.unwrap_or(""), domain: domain.unwrap_or(""),
            mine: filter.mine, flash: flash.map(|f| f.message().to_owned()),
        },
    ))
}

#[post("/claim-next", data = "<_checked>")]
async fn claim_next(
    session: ReviewerSession,
    _checked: CsrfForm<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    match review::claim_next(&services.db, &session.0.reviewer, Utc::now()).await? {
        Some(id) => Ok(Flash::success(
            Redirect::to(uri!("/review", review_page(id.to_string()))),
            "Claimed for 15 minutes; your activity renews the claim.",
        )),
        None => Ok(Flash::warning(
            Redirect::to("/review"),
            "Nothing is waiting for review.",
        )),
    }
}

fn request_id(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::NotFound)
}

#[get("/requests/<id>")]
async fn review_page(
    id: &str,
    session: ReviewerSession,
    flash: Option<FlashMessage<'_>>,
    services: &State<Services>,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let view = review::review_view(services, request_id(id)?, me, Utc::now()).await?;
    let kinds: Vec<(&str, &str)> = DocumentKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    Ok(Template::render(
        "review_request",
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token, view, kinds,
            reasons: REJECTION_REASONS, flash: flash.map(|f| (f.kind().to_owned(), f.message().to_owned())),
        },
    ))
}

/// Reasons reviewers pick most; the requester reads them, so they speak to the requester.
const REJECTION_REASONS: &[&str] = &[
    "The name on the identity document does not match the holder of the domain.",
    "The identity document is expired or not an accepted identity document.",
    "The photo appears to have been edited.",
    "The authorisation letter is missing a signature or does not name this domain.",
];

fn back_to(id: Uuid) -> Redirect {
    Redirect::to(uri!("/review", review_page(id.to_string())))
}

#[post("/requests/<id>/claim", data = "<_checked>")]
async fn claim(
    id: &str,
    session: ReviewerSession,
    _checked: CsrfForm<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = request_id(id)?;
    review::claim(&services.db, id, &session.0.reviewer, Utc::now()).await?;
    Ok(Flash::success(
        back_to(id),
        "Claimed for 15 minutes; your activity renews the claim.",
    ))
}

#[post("/requests/<id>/release", data = "<_checked>")]
async fn release(
    id: &str,
    session: ReviewerSession,
    _checked: CsrfForm<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = request_id(id)?;
    review::release(&services.db, id, &session.0.reviewer).await?;
    Ok(Flash::success(Redirect::to("/review"), "Claim released."))
}

/// A decrypted, watermarked document: never cached, never sniffed, never a page.
struct DocumentView(Vec<u8>);

impl<'r> Responder<'r, 'static> for DocumentView {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        response::Response::build_from(self.0.respond_to(req)?)
            .header(ContentType::JPEG)
            .header(Header::new("Cache-Control", "no-store"))
            .header(Header::new("Content-Security-Policy", "default-src 'none'"))
            .header(Header::new("Content-Disposition", "inline"))
            .ok()
    }
}

#[get("/requests/<id>/documents/<document_id>")]
async fn document(
    id: &str,
    document_id: &str,
    session: ReviewerSession,
    services: &State<Services>,
) -> Result<DocumentView, Error> {
    let document_id = Uuid::parse_str(document_id).map_err(|_| Error::NotFound)?;
    let bytes = review::view_document(
        services,
        request_id(id)?,
        document_id,
        &session.0.reviewer,
        Utc::now(),
    )
    .await?;
    Ok(DocumentView(bytes))
}

#[post("/requests/<id>/approve", data = "<_checked>")]
async fn approve(
    id: &str,
    session: ReviewerSession,
    _checked: CsrfForm<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = request_id(id)?;
    match review::approve(services, id, &session.0.reviewer, Utc::now()).await? {
        ApproveOutcome::Approved => Ok(Flash::success(
            back_to(id),
            "Approved. The transfer code is waiting for the requester on their tracking page; the documents are destroyed.",
        )),
        ApproveOutcome::ApprovalRecorded { have, need } => Ok(Flash::success(
            Redirect::to("/review"),
            format!("Your approval is recorded ({have} of {need}); another reviewer must approve too."),
        )),
    }
}

#[derive(FromForm)]
struct RejectForm {
    csrf_token: String,
    template: Option<String>,
    reason: Option<String>,
}

impl CarriesCsrf for RejectForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/requests/<id>/reject", data = "<form>")]
async fn reject(
    id: &str,
    session: ReviewerSession,
    form: CsrfForm<RejectForm>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = request_id(id)?;
    let form = form.0;
    let reason = [form.template, form.reason]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match review::reject(services, id, &session.0.reviewer, &reason, Utc::now()).await {
        Ok(()) => Ok(Flash::success(
            back_to(id),
            "Rejected. The requester sees your reason; the documents are destroyed.",
        )),
        Err(ReviewError::Invalid(message)) => Ok(Flash::error(back_to(id), message)),
        Err(other) => Err(other.into()),
    }
}

#[derive(FromForm)]
struct RequestDocumentForm {
    csrf_token: String,
    kind: Option<String>,
    note: Option<String>,
}

impl CarriesCsrf for RequestDocumentForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/requests/<id>/request-document", data = "<form>")]
async fn request_document(
    id: &str,
    session: ReviewerSession,
    form: CsrfForm<RequestDocumentForm>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = request_id(id)?;
    let Some(kind) = form.0.kind.as_deref().and_then(DocumentKind::parse) else {
        return Ok(Flash::error(
            back_to(id),
            "Please choose which document to ask for.",
        ));
    };
    match review::request_document(
        services,
        id,
        &session.0.reviewer,
        kind,
        form.0.note.as_deref().unwrap_or(""),
        Utc::now(),
    )
    .await
    {
        Ok(()) => Ok(Flash::success(
            back_to(id),
            "The requester is asked for a new document.",
        )),
        Err(ReviewError::Invalid(message)) => Ok(Flash::error(back_to(id), message)),
        Err(other) => Err(other.into()),
    }
}

#[get("/audit?<actor>&<action>&<request>")]
async fn audit_trail(
    session: AdminSession,
    actor: Option<&str>,
    action: Option<&str>,
    request: Option<&str>,
    services: &State<Services>,
) -> Result<Template, Error> {
    let filter = AuditFilter {
        actor: actor
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned),
        action: action
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned),
        request_id: request.and_then(|r| Uuid::parse_str(r.trim()).ok()),
    };
    let events = audit::list(&services.db, &filter, 500).await?;
    Ok(Template::render(
        "review_audit",
        context! {
            me: &session.0.reviewer.name, is_admin: true, csrf_token: &session.0.csrf_token, events,
            actor: actor.unwrap_or(""), action: action.unwrap_or(""), request: request.unwrap_or(""),
        },
    ))
}
