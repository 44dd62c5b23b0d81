//! The reviewer's pages: sign-in, first-admin setup, queue, review, documents, decisions,
//! and the admin's audit trail. Every URL of the staff audience is here.

use chrono::Utc;
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, CookieJar, Header, Status};
use rocket::request::{FlashMessage, Request};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket::{catch, catchers, get, post, routes, uri, Catcher, Route, State};
use rocket_dyn_templates::{context, Template};
use sea_orm::Iterable;
use uuid::Uuid;

use super::csrf::{carries_csrf, CsrfForm, FormToken};
use super::error::Error;
use super::guards::{ClientAddr, SecureCookies};
use super::session::{clear_session_cookie, set_session_cookie, AdminSession, ReviewerSession};
use super::{page, Chosen, FormAnswer};
use crate::accounts::{self, LoginOutcome};
use crate::audit::{self, AuditFilter};
use crate::crypto::TrackingToken;
use crate::i18n::{Arg, Lang, Text};
use crate::services::Services;
use crate::workflow::decide::{self, ApprovalInput, ApproveOutcome};
use crate::workflow::messages::{self, MessageError};
use crate::workflow::objection;
use crate::workflow::queue::{self as claims, QueueFilter};
use crate::workflow::{
    parse, view, DocumentKind, RequestKind, RequestState, ReviewError, REJECTION_REASONS,
    REQUESTER_DOCUMENTS,
};

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        setup_page,
        setup,
        queue_page,
        claim_next,
        review_page,
        claim,
        release,
        document,
        approve,
        reject,
        request_document,
        send_message,
        objection_handled,
        withdraw,
        outbox,
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
                Text::new("review-registry-failed").with("detail", detail),
            ),
            ReviewError::NotRequesterDocument => correct("review-not-requester-document"),
            ReviewError::Database(e) => e.into(),
            ReviewError::Unreadable => Error::Internal(error.to_string()),
        }
    }
}

/// A decision the reviewer can correct on the same page comes back there as a message;
/// anything else is an error page.
fn back_with(id: Uuid, error: ReviewError, lang: Lang) -> Result<Flash<Redirect>, Error> {
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

/// A form with nothing but the CSRF token.
#[derive(FromForm)]
struct Plain {
    csrf_token: String,
}

#[derive(FromForm)]
struct LoginForm {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_NAME_CHARS * 4))]
    name: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
}

#[derive(FromForm)]
struct SetupForm {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_NAME_CHARS * 4))]
    name: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password_again: String,
}

#[derive(FromForm)]
struct ApproveForm {
    csrf_token: String,
    confirm_contested: bool,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    contested_reason: Option<String>,
    signatory_confirmed: bool,
}

#[derive(FromForm)]
struct RejectForm {
    csrf_token: String,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    template: Option<String>,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    reason: Option<String>,
}

#[derive(FromForm)]
struct RequestDocumentForm {
    csrf_token: String,
    kind: Option<String>,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    note: Option<String>,
}

carries_csrf!(
    Plain,
    LoginForm,
    SetupForm,
    ApproveForm,
    RejectForm,
    RequestDocumentForm
);

/// Sign-in and setup take URL-encoded forms only (a multipart body is refused before it is
/// read), so every field is bounded by the `form` limit.
type UrlEncoded<T> = CsrfForm<Form<T>>;

fn login_template(
    chosen: &Chosen,
    token: &FormToken,
    name: &str,
    message: Option<&str>,
) -> Template {
    page(
        "review_login",
        chosen,
        context! { csrf_token: token.as_str(), name, message },
    )
}

#[get("/login")]
fn login_page(token: FormToken, chosen: Chosen) -> Template {
    login_template(&chosen, &token, "", None)
}

#[post("/login", format = "form", data = "<form>")]
async fn login(
    form: UrlEncoded<LoginForm>,
    token: FormToken,
    chosen: Chosen,
    client: ClientAddr,
    secure: SecureCookies,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let form = form.0.into_inner();
    let name = form.name.trim();
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let outcome = accounts::login(
        &services.db,
        &services.throttle,
        name,
        &form.password,
        &address,
    )
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    let again = |status, message: &str| {
        FormAnswer::Again((status, login_template(&chosen, &token, name, Some(message))))
    };
    Ok(match outcome {
        LoginOutcome::Success { session_id, .. } => {
            set_session_cookie(jar, &session_id, secure.0);
            FormAnswer::Next(Redirect::to("/review"))
        }
        LoginOutcome::Refused => again(Status::Unauthorized, &chosen.lang.t("login-refused")),
        LoginOutcome::Throttled {
            retry_after_minutes,
        } => again(
            Status::TooManyRequests,
            &chosen.lang.t_with(
                "login-throttled",
                &[("minutes", Arg::from(retry_after_minutes))],
            ),
        ),
    })
}

#[post("/logout", data = "<_checked>")]
async fn logout(
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    accounts::logout(&services.db, &session.0).await?;
    clear_session_cookie(jar);
    Ok(Redirect::to("/review/login"))
}

/// A page reached through a one-time link (`review_setup`, `review_password`): the form
/// posts back to the same link.
pub(super) fn link_page(
    template: &'static str,
    chosen: &Chosen,
    token: &FormToken,
    link: &TrackingToken,
    name: &str,
    message: Option<&str>,
) -> Template {
    page(
        template,
        chosen,
        context! { csrf_token: token.as_str(), token: link.expose(), name, message },
    )
}

#[get("/setup/<link>")]
async fn setup_page(
    link: Option<TrackingToken>,
    token: FormToken,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let link = link.ok_or(Error::NotFound)?;
    if !accounts::setup_link_valid(&services.db, &link).await? {
        return Err(Error::NotFound);
    }
    Ok(link_page("review_setup", &chosen, &token, &link, "", None))
}

#[post("/setup/<link>", format = "form", data = "<form>")]
async fn setup(
    link: Option<TrackingToken>,
    form: UrlEncoded<SetupForm>,
    token: FormToken,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let link = link.ok_or(Error::NotFound)?;
    let form = form.0.into_inner();
    let name = form.name.trim();
    let again = |message: &str| {
        Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            link_page("review_setup", &chosen, &token, &link, name, Some(message)),
        )))
    };
    if form.password != form.password_again {
        return again(&chosen.lang.t("password-differ"));
    }
    match accounts::complete_setup(&services.db, &link, name, &form.password).await {
        Ok(Some(_)) => {
            let _ = std::fs::remove_file(services.settings.data_dir.join(super::SETUP_LINK_FILE));
            Ok(FormAnswer::Next(Redirect::to("/review/login")))
        }
        Ok(None) => Err(Error::NotFound),
        Err(accounts::AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&super::account_message(&other, chosen.lang)),
    }
}

#[get("/?<state>&<domain>&<mine>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn queue_page(
    session: ReviewerSession,
    state: Option<&str>,
    domain: Option<&str>,
    mine: Option<bool>,
    page: Option<u64>,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let filter = QueueFilter {
        state: state.and_then(parse::<RequestState>),
        domain: domain.map(str::to_owned),
        mine: mine.unwrap_or(false),
        page: page.unwrap_or(0).min(10_000),
    };
    let now = Utc::now();
    let found = claims::queue(&services.db, &filter, me, now).await?;
    let summary = claims::summary(&services.db, now).await?;
    let states: Vec<RequestState> = RequestState::iter().collect();
    Ok(super::language::page(
        "review_queue",
        &chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token,
            items: found.items, summary, states, state: state.unwrap_or(""), domain: domain.unwrap_or(""),
            mine: filter.mine, flash: flash.map(|f| f.message().to_owned()),
            page: filter.page, has_next: found.has_next,
        },
    ))
}

#[post("/claim-next", data = "<_checked>")]
async fn claim_next(
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let me = &session.0.reviewer;
    match claims::claim_next(&services.db, &services.settings, me, Utc::now()).await? {
        Some(id) => Ok(Flash::success(back_to(id), chosen.lang.t("review-claimed"))),
        None => Ok(Flash::warning(
            Redirect::to("/review"),
            chosen.lang.t("review-nothing-waiting"),
        )),
    }
}

#[get("/requests/<id>")]
async fn review_page(
    id: Option<Uuid>,
    session: ReviewerSession,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let view = view::review_view(services, id.ok_or(Error::NotFound)?, me, Utc::now()).await?;
    let kinds = REQUESTER_DOCUMENTS;
    let earlier_reasons: Vec<String> = view
        .earlier_rejections
        .iter()
        .map(|r| r.reason.in_lang(chosen.lang))
        .collect();
    let decidable = matches!(
        view.state,
        RequestState::Submitted | RequestState::NeedsDocument
    );
    Ok(page(
        "review_request",
        &chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token,
            contested: view.domain_contested(), decidable, view, kinds, reasons: REJECTION_REASONS,
            earlier_reasons,
            flash: flash.map(|f| (f.kind().to_owned(), f.message().to_owned())),
            max_message_chars: messages::MAX_MESSAGE_CHARS,
        },
    ))
}

#[derive(FromForm)]
struct StaffMessageForm {
    csrf_token: String,
    #[field(validate = len(..=messages::MAX_MESSAGE_CHARS * 4))]
    message: String,
}

carries_csrf!(StaffMessageForm);

/// A reviewer writes to the requester; any reviewer may, without a claim.
#[post("/requests/<id>/messages", data = "<form>")]
async fn send_message(
    id: Option<Uuid>,
    session: ReviewerSession,
    form: UrlEncoded<StaffMessageForm>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let text = form.0.into_inner().message;
    match messages::from_staff(services, id, &session.0.reviewer, &text, Utc::now()).await {
        Ok(()) => Ok(Flash::success(
            back_to(id),
            chosen.lang.t("review-message-sent"),
        )),
        Err(MessageError::NotFound) => Err(Error::NotFound),
        Err(MessageError::Database(error)) => Err(Error::Internal(error)),
        Err(problem) => Ok(Flash::error(
            back_to(id),
            super::wording::message_problem(&problem, chosen.lang),
        )),
    }
}

fn back_to(id: Uuid) -> Redirect {
    Redirect::to(uri!("/review", review_page(id)))
}

#[post("/requests/<id>/claim", data = "<_checked>")]
async fn claim(
    id: Option<Uuid>,
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    claims::claim(
        &services.db,
        &services.settings,
        id,
        &session.0.reviewer,
        Utc::now(),
    )
    .await?;
    Ok(Flash::success(back_to(id), chosen.lang.t("review-claimed")))
}

#[post("/requests/<id>/release", data = "<_checked>")]
async fn release(
    id: Option<Uuid>,
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    claims::release(&services.db, id, &session.0.reviewer).await?;
    Ok(Flash::success(
        Redirect::to("/review"),
        chosen.lang.t("review-released"),
    ))
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
    id: Option<Uuid>,
    document_id: Option<Uuid>,
    session: ReviewerSession,
    services: &State<Services>,
) -> Result<DocumentView, Error> {
    let (id, document_id) = id.zip(document_id).ok_or(Error::NotFound)?;
    let bytes =
        view::view_document(services, id, document_id, &session.0.reviewer, Utc::now()).await?;
    Ok(DocumentView(bytes))
}

#[post("/requests/<id>/approve", data = "<form>")]
async fn approve(
    id: Option<Uuid>,
    session: ReviewerSession,
    form: UrlEncoded<ApproveForm>,
    chosen: Chosen,
    host: super::HostUrl,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let form = form.0.into_inner();
    let input = ApprovalInput {
        contested_reason: form.contested_reason.filter(|_| form.confirm_contested),
        signatory_confirmed: form.signatory_confirmed,
        link_base: host.0,
    };
    match decide::approve(services, id, &session.0.reviewer, &input, Utc::now()).await {
        Ok(ApproveOutcome::Approved(RequestKind::Nameservers)) => Ok(Flash::success(
            back_to(id),
            chosen.lang.t("review-approved-nameservers"),
        )),
        Ok(ApproveOutcome::Approved(RequestKind::TransferCode)) => Ok(Flash::success(
            back_to(id),
            chosen.lang.t("review-approved-code"),
        )),
        Ok(ApproveOutcome::ApprovalRecorded { have, need }) => Ok(Flash::success(
            Redirect::to("/review"),
            chosen.lang.t_with(
                "review-approval-recorded",
                &[("have", Arg::from(have)), ("need", Arg::from(need))],
            ),
        )),
        Err(error) => back_with(id, error, chosen.lang),
    }
}

#[post("/requests/<id>/reject", data = "<form>")]
async fn reject(
    id: Option<Uuid>,
    session: ReviewerSession,
    form: UrlEncoded<RejectForm>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let form = form.0.into_inner();
    let standard = form.template.as_deref().filter(|key| !key.is_empty());
    let words = form.reason.as_deref().unwrap_or_default();
    match decide::reject(
        services,
        id,
        &session.0.reviewer,
        standard,
        words,
        Utc::now(),
    )
    .await
    {
        Ok(()) => Ok(Flash::success(
            back_to(id),
            chosen.lang.t("review-rejected"),
        )),
        Err(error) => back_with(id, error, chosen.lang),
    }
}

#[post("/requests/<id>/request-document", data = "<form>")]
async fn request_document(
    id: Option<Uuid>,
    session: ReviewerSession,
    form: UrlEncoded<RequestDocumentForm>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let form = form.0.into_inner();
    let Some(kind) = form.kind.as_deref().and_then(parse::<DocumentKind>) else {
        return Ok(Flash::error(
            back_to(id),
            chosen.lang.t("review-choose-document"),
        ));
    };
    let note = form.note.as_deref().unwrap_or("");
    match decide::request_document(services, id, &session.0.reviewer, kind, note, Utc::now()).await
    {
        Ok(()) => Ok(Flash::success(
            back_to(id),
            chosen.lang.t("review-document-asked"),
        )),
        Err(error) => back_with(id, error, chosen.lang),
    }
}

/// A reviewer has dealt with the registrant's objection.
#[post("/requests/<id>/objection-handled", data = "<_checked>")]
async fn objection_handled(
    id: Option<Uuid>,
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    if !objection::mark_handled(services, id, &session.0.reviewer, Utc::now()).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        back_to(id),
        chosen.lang.t("review-objection-handled"),
    ))
}

/// An admin cancels an approved request's code, or restores the nameservers of an approved
/// change, whatever the mail setup (the registrant's own link needs mail).
#[post("/requests/<id>/withdraw", data = "<_checked>")]
async fn withdraw(
    id: Option<Uuid>,
    session: AdminSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    if !objection::withdraw_by_admin(services, id, &session.0.reviewer, Utc::now()).await? {
        return Ok(Flash::error(
            back_to(id),
            chosen.lang.t("review-withdraw-nothing"),
        ));
    }
    Ok(Flash::success(
        back_to(id),
        chosen.lang.t("review-withdrawn"),
    ))
}

/// What was mailed, is waiting or could not be sent, to whom: never a link or a code.
#[get("/outbox")]
async fn outbox(
    session: AdminSession,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let mails = crate::mail::recent(&services.db, 200).await?;
    Ok(page(
        "review_outbox",
        &chosen,
        context! {
            me: &session.0.reviewer.name, is_admin: true, csrf_token: &session.0.csrf_token,
            mails, smtp: services.settings.smtp_url.is_some(), link_marker: crate::mail::LINK_MARKER,
        },
    ))
}

#[get("/audit?<actor>&<action>&<request>")]
async fn audit_trail(
    session: AdminSession,
    actor: Option<&str>,
    action: Option<&str>,
    request: Option<&str>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let given = |text: Option<&str>| {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let filter = AuditFilter {
        actor: given(actor),
        action: given(action),
        request_id: request.and_then(|r| Uuid::parse_str(r.trim()).ok()),
    };
    let events = audit::list(&services.db, &filter, 500).await?;
    Ok(page(
        "review_audit",
        &chosen,
        context! {
            me: &session.0.reviewer.name, is_admin: true, csrf_token: &session.0.csrf_token, events,
            actor: actor.unwrap_or(""), action: action.unwrap_or(""), request: request.unwrap_or(""),
        },
    ))
}
