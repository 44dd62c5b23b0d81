//! The requester's pages: the request form and the tracking page.

use chrono::Utc;
use rocket::form::Form;
use rocket::http::{ContentType, Status};
use rocket::response::Redirect;
use rocket::Either;
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{carries_csrf, CsrfForm, FormToken, Refusal};
use super::error::Error;
use super::forms::{DocumentForm, RequestForm, UploadError};
use super::guards::{ClientAddr, UploadSlot};
use super::language::Visitor;
use super::{page, wording, Chosen, FormAnswer, HostUrl};
use crate::platform::crypto::TrackingToken;
use crate::web::links::PageLinks;
use crate::workflow::messages::{self, MessageError, MAX_MESSAGE_CHARS};
use crate::workflow::services::Services;
use crate::workflow::Field;
use crate::workflow::TypedValues;
use crate::workflow::{self, FieldErrors, SubmitError};

pub fn routes() -> Vec<Route> {
    routes![
        request_form,
        submit_request,
        track,
        provide_document,
        send_message,
        deletion_receipt,
        favicon
    ]
}

fn form_page(
    services: &Services,
    chosen: &Chosen,
    csrf: &FormToken,
    values: &TypedValues,
    problems: &FieldErrors,
) -> Template {
    // In the page's order (the order of `Field`): the summary lists them so, and focus goes
    // to the first.
    let error_list = wording::field_error_list(problems, chosen.lang);
    let first_error = error_list.first().map_or("", |(field, _)| *field);
    let errors = wording::field_errors(problems, chosen.lang);
    let quality_warning = problems
        .values()
        .any(|p| matches!(p, crate::workflow::FieldProblem::Quality(_)));
    page(
        "request_form",
        chosen,
        context! {
            csrf_token: csrf.as_str(), values, errors: &errors, error_list, first_error,
            notices: super::notices::shown(services, chosen.lang),
            error_count: errors.len(), quality_warning,
            offers_nameservers: crate::registry::Registry::configured(&services.settings).is_some(),
            offers_holder_verification: services.settings.smtp_url.is_some(),
            offers_eid: crate::workflow::eid::offered(services),
            retention_days: services.settings.retention_days,
        },
    )
}

#[get("/favicon.ico")]
fn favicon() -> (ContentType, &'static [u8]) {
    (
        ContentType::Icon,
        include_bytes!("../../static/favicon.ico"),
    )
}

#[get("/")]
fn request_form(csrf: FormToken, chosen: Chosen, services: &State<Services>) -> Template {
    form_page(
        services,
        &chosen,
        &csrf,
        &TypedValues::default(),
        &FieldErrors::new(),
    )
}

#[post("/requests", data = "<form>")]
async fn submit_request(
    _slot: UploadSlot,
    form: Result<CsrfForm<RequestForm>, Refusal<UploadError>>,
    visitor: Visitor,
    client: ClientAddr,
    jar: &rocket::http::CookieJar<'_>,
    secure: super::cookies::SecureCookies,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let form = form?.0;
    let typed = form.typed_values();
    let mut input = form.into_input(client.0, visitor.chosen.lang);
    // The page hides what does not apply to the person's choices; what those fields still
    // hold (typed before a change of mind) is not theirs to answer for.
    input.keep_only_what_applies();
    match workflow::submit(services, input, &PageLinks(visitor.host.0.clone())).await {
        Ok(submitted) => {
            super::eid::after_submission(jar, secure.0, &submitted);
            let tracking = submitted.tracking_token.expose();
            Ok(FormAnswer::Next(Redirect::to(format!(
                "/track/{tracking}?new=true"
            ))))
        }
        Err(SubmitError::Invalid(errors)) => Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            form_page(services, &visitor.chosen, &visitor.csrf, &typed, &errors),
        ))),
        Err(other) => Err(other.into()),
    }
}

#[get("/track/<token>?<new>&<sent>")]
async fn track(
    token: Option<TrackingToken>,
    new: Option<bool>,
    sent: Option<&str>,
    visitor: Visitor,
    services: &State<Services>,
) -> Result<Either<Template, Redirect>, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let just_submitted = if new.unwrap_or(false) {
        // The welcome box shows once; a bookmark of this address leads to the clean one.
        if !workflow::first_tracking_view(services, &token, Utc::now()).await? {
            let clean = format!("/track/{}", token.expose());
            return Ok(Either::Right(Redirect::to(clean)));
        }
        true
    } else {
        false
    };
    let page = TrackPage {
        just_submitted,
        message_sent: sent == Some("message"),
        ..TrackPage::default()
    };
    let page = track_page(
        &token,
        page,
        &visitor.chosen,
        &visitor.host,
        &visitor.csrf,
        services,
    )
    .await?;
    Ok(Either::Left(page))
}

/// The signed deletion receipt, once the request's documents are destroyed.
#[get("/track/<token>/receipt")]
async fn deletion_receipt(
    token: Option<TrackingToken>,
    services: &State<Services>,
) -> Result<Receipt, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let receipt = workflow::receipt::deletion_receipt(services, &token, Utc::now())
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .ok_or(Error::NotFound)?;
    let disposition = rocket::http::Header::new(
        "Content-Disposition",
        "attachment; filename=\"deletion-receipt.txt\"",
    );
    Ok(Receipt {
        receipt,
        disposition,
    })
}

/// A text to save, not to show.
#[derive(rocket::Responder)]
#[response(content_type = "text/plain")]
struct Receipt {
    receipt: String,
    disposition: rocket::http::Header<'static>,
}

/// What the tracking page shows besides the request: a first visit's links, a form's error
/// and what was typed.
#[derive(Default)]
struct TrackPage {
    just_submitted: bool,
    document_error: Option<String>,
    message_error: Option<String>,
    message: String,
    message_sent: bool,
}

async fn track_page(
    token: &TrackingToken,
    shown: TrackPage,
    chosen: &Chosen,
    host: &HostUrl,
    csrf: &FormToken,
    services: &Services,
) -> Result<Template, Error> {
    let view = workflow::find_for_requester(services, token, None)
        .await?
        .ok_or(Error::NotFound)?;
    let link = format!("{}/track/{}", host.0, token.expose());
    let reason = view.reason.as_ref().map(|r| r.in_lang(chosen.lang));
    let eid = match view.state {
        workflow::RequestState::AwaitingEid => {
            let requester = entities::enums::EidSubject::Requester;
            super::eid::panel(services, host, view.request_id, requester).await?
        }
        _ => None,
    };
    Ok(page(
        "track",
        chosen,
        context! {
            view, link, reason, eid, token: token.expose(), csrf_token: csrf.as_str(),
            just_submitted: shown.just_submitted,
            error: shown.document_error, message_error: shown.message_error,
            message: shown.message, message_sent: shown.message_sent,
            max_message_chars: MAX_MESSAGE_CHARS,
            notices: super::notices::shown(services, chosen.lang),
        },
    ))
}

#[derive(FromForm)]
struct MessageForm {
    csrf_token: String,
    #[field(validate = len(..=MAX_MESSAGE_CHARS * 4))]
    message: String,
}

carries_csrf!(MessageForm);

/// The requester writes to the reviewers from the tracking page.
#[post("/track/<token>/messages", format = "form", data = "<form>")]
async fn send_message(
    token: Option<TrackingToken>,
    form: CsrfForm<Form<MessageForm>>,
    csrf: FormToken,
    chosen: Chosen,
    host: HostUrl,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let text = form.0.into_inner().message;
    match messages::from_requester(
        services,
        &token,
        &text,
        &PageLinks(host.0.clone()),
        Utc::now(),
    )
    .await
    {
        Ok(()) => Ok(FormAnswer::Next(Redirect::to(format!(
            "/track/{}?sent=message#messages",
            token.expose()
        )))),
        Err(MessageError::NotFound) => Err(Error::NotFound),
        Err(MessageError::Database(error)) => Err(error.into()),
        Err(problem) => {
            let shown = TrackPage {
                message_error: Some(wording::message_problem(&problem, chosen.lang)),
                message: text,
                ..TrackPage::default()
            };
            let page = track_page(&token, shown, &chosen, &host, &csrf, services).await?;
            Ok(FormAnswer::Again((Status::UnprocessableEntity, page)))
        }
    }
}

/// The requester sends the new document a reviewer asked for.
#[post("/track/<token>/document", data = "<form>")]
async fn provide_document(
    token: Option<TrackingToken>,
    _slot: UploadSlot,
    form: Result<CsrfForm<DocumentForm>, Refusal<UploadError>>,
    visitor: Visitor,
    client: ClientAddr,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let upload = form?.0.into_upload();
    let address = client.0.unwrap_or_else(|| "unknown".into());
    match workflow::provide_document(services, &token, upload, &address).await {
        Ok(()) => Ok(FormAnswer::Next(Redirect::to(format!(
            "/track/{}",
            token.expose()
        )))),
        Err(SubmitError::Invalid(mut errors)) => {
            let Visitor { chosen, host, csrf } = visitor;
            let shown = TrackPage {
                document_error: errors
                    .remove(&Field::Document)
                    .map(|p| wording::field_problem(&p, chosen.lang)),
                ..TrackPage::default()
            };
            let page = track_page(&token, shown, &chosen, &host, &csrf, services).await?;
            Ok(FormAnswer::Again((Status::UnprocessableEntity, page)))
        }
        Err(other) => Err(other.into()),
    }
}
