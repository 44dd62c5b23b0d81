//! The requester's pages: the request form and the tracking page.

use rocket::http::{ContentType, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{CsrfForm, FormToken, Refusal};
use super::error::Error;
use super::forms::{DocumentForm, RequestForm, TypedValues, UploadError};
use super::guards::{ClientAddr, UploadSlot};
use super::{wording, FormAnswer, HostUrl};
use crate::crypto::TrackingToken;
use crate::services::Services;
use crate::workflow::{self, FieldErrors, SubmitError};

pub fn routes() -> Vec<Route> {
    routes![
        request_form,
        submit_request,
        track,
        provide_document,
        favicon
    ]
}

/// The form's fields in the order a person meets them: the error summary follows it, and
/// focus goes to the first field in error.
const FIELD_ORDER: &[&str] = &[
    "domain",
    "full_name",
    "email",
    "phone",
    "relation",
    "company_uid",
    "id_front",
    "id_back",
    "authorization",
    "consent",
];

fn form_page(
    services: &Services,
    csrf: &FormToken,
    values: &TypedValues,
    problems: &FieldErrors,
) -> Template {
    let errors = wording::field_errors(problems);
    let position = |field: &str| FIELD_ORDER.iter().position(|f| *f == field);
    let mut error_list: Vec<(&str, &str)> = errors
        .iter()
        .map(|(field, message)| (*field, message.as_str()))
        .collect();
    error_list.sort_by_key(|(field, _)| position(field).unwrap_or(usize::MAX));
    let first_error = error_list.first().map_or("", |(field, _)| *field);
    Template::render(
        "request_form",
        context! {
            csrf_token: csrf.as_str(), values, errors: &errors, error_list, first_error,
            notices: super::notices::shown(services, "en"),
            error_count: errors.len(),
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
fn request_form(csrf: FormToken, services: &State<Services>) -> Template {
    form_page(
        services,
        &csrf,
        &TypedValues::default(),
        &FieldErrors::new(),
    )
}

#[post("/requests", data = "<form>")]
async fn submit_request(
    _slot: UploadSlot,
    form: Result<CsrfForm<RequestForm>, Refusal<UploadError>>,
    csrf: FormToken,
    client: ClientAddr,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let form = form?.0;
    let typed = form.typed_values();
    let input = form.into_input(client.0);
    match workflow::submit(services, input).await {
        Ok(submitted) => Ok(FormAnswer::Next(Redirect::to(format!(
            "/track/{}?new=true",
            submitted.tracking_token.expose()
        )))),
        Err(SubmitError::Invalid(errors)) => Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            form_page(services, &csrf, &typed, &errors),
        ))),
        Err(other) => Err(other.into()),
    }
}

#[get("/track/<token>?<new>")]
async fn track(
    token: Option<TrackingToken>,
    new: Option<bool>,
    host: HostUrl,
    csrf: FormToken,
    services: &State<Services>,
) -> Result<Template, Error> {
    let token = token.ok_or(Error::NotFound)?;
    track_page(&token, new.unwrap_or(false), None, &host, &csrf, services).await
}

async fn track_page(
    token: &TrackingToken,
    just_submitted: bool,
    error: Option<String>,
    host: &HostUrl,
    csrf: &FormToken,
    services: &Services,
) -> Result<Template, Error> {
    let view = workflow::find_for_requester(services, token, None)
        .await?
        .ok_or(Error::NotFound)?;
    let link = format!("{}/track/{}", host.0, token.expose());
    Ok(Template::render(
        "track",
        context! {
            view, link, just_submitted, error, token: token.expose(), csrf_token: csrf.as_str(),
            notices: super::notices::shown(services, "en"),
        },
    ))
}

/// The requester sends the new document a reviewer asked for.
#[post("/track/<token>/document", data = "<form>")]
async fn provide_document(
    token: Option<TrackingToken>,
    _slot: UploadSlot,
    form: Result<CsrfForm<DocumentForm>, Refusal<UploadError>>,
    csrf: FormToken,
    host: HostUrl,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let upload = form?.0.into_upload();
    match workflow::provide_document(services, &token, upload).await {
        Ok(()) => Ok(FormAnswer::Next(Redirect::to(format!(
            "/track/{}",
            token.expose()
        )))),
        Err(SubmitError::NotFound) => Err(Error::NotFound),
        Err(SubmitError::Invalid(mut errors)) => {
            let message = errors
                .remove("document")
                .map(|p| wording::field_problem(&p));
            let page = track_page(&token, false, message, &host, &csrf, services).await?;
            Ok(FormAnswer::Again((Status::UnprocessableEntity, page)))
        }
        Err(other) => Err(other.into()),
    }
}
