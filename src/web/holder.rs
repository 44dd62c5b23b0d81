//! The holder's page: reached through the holder's own private link, it says who asked for
//! what; the holder confirms with their identity document or refuses.

use rocket::form::Form;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{carries_csrf, CsrfForm, FormToken, Refusal};
use super::error::Error;
use super::forms::{HolderDocumentsForm, UploadError};
use super::guards::{ClientAddr, UploadSlot};
use super::language::Visitor;
use super::{page, wording, Chosen, FormAnswer, HostUrl};
use crate::platform::crypto::HolderToken;
use crate::workflow::holder::{self, MAX_REFUSAL_CHARS};
use crate::workflow::services::Services;
use crate::workflow::{FieldErrors, SubmitError};

pub fn routes() -> Vec<Route> {
    routes![holder_page, confirm, refuse]
}

async fn holder_template(
    services: &Services,
    host: &HostUrl,
    chosen: &Chosen,
    token: &HolderToken,
    csrf: &FormToken,
    errors: &FieldErrors,
    typed: &Typed<'_>,
) -> Result<Template, Error> {
    let view = holder::find_for_holder(services, token)
        .await?
        .ok_or(Error::NotFound)?;
    let errors = wording::field_errors(errors, chosen.lang);
    let eid = match view.open {
        true => {
            let holder = entities::enums::EidSubject::Holder;
            super::eid::panel(services, host, view.request_id, holder).await?
        }
        false => None,
    };
    Ok(page(
        "holder",
        chosen,
        context! {
            view, eid, token: token.expose(), csrf_token: csrf.as_str(), errors,
            reason: typed.reason, said_type: typed.said_type, max_reason_chars: MAX_REFUSAL_CHARS,
        },
    ))
}

#[get("/holder/<token>")]
async fn holder_page(
    token: Option<HolderToken>,
    csrf: FormToken,
    chosen: Chosen,
    host: HostUrl,
    services: &State<Services>,
) -> Result<Template, Error> {
    let token = token.ok_or(Error::NotFound)?;
    holder_template(
        services,
        &host,
        &chosen,
        &token,
        &csrf,
        &FieldErrors::new(),
        &Typed::default(),
    )
    .await
}

/// What the holder typed, shown again with the problems.
#[derive(Default)]
struct Typed<'a> {
    reason: &'a str,
    said_type: &'a str,
}

/// The holder's answer is shown again on their page, or the form with what went wrong.
async fn answered(
    result: Result<(), SubmitError>,
    services: &Services,
    host: &HostUrl,
    chosen: &Chosen,
    token: &HolderToken,
    csrf: &FormToken,
    typed: Typed<'_>,
) -> Result<FormAnswer, Error> {
    match result {
        Ok(()) => Ok(FormAnswer::Next(Redirect::to(format!(
            "/holder/{}",
            token.expose()
        )))),
        Err(SubmitError::Invalid(errors)) => Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            holder_template(services, host, chosen, token, csrf, &errors, &typed).await?,
        ))),
        Err(other) => Err(other.into()),
    }
}

#[post("/holder/<token>/confirm", data = "<form>")]
async fn confirm(
    token: Option<HolderToken>,
    _slot: UploadSlot,
    form: Result<CsrfForm<HolderDocumentsForm>, Refusal<UploadError>>,
    visitor: Visitor,
    client: ClientAddr,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let Visitor { csrf, chosen, host } = visitor;
    let token = token.ok_or(Error::NotFound)?;
    let (said_type, front, back) = form?.0.into_answer();
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let result = holder::confirm(services, &token, &said_type, front, back, &address).await;
    let typed = Typed {
        said_type: &said_type,
        ..Typed::default()
    };
    answered(result, services, &host, &chosen, &token, &csrf, typed).await
}

#[derive(FromForm)]
struct RefuseForm {
    csrf_token: String,
    #[field(validate = len(..=MAX_REFUSAL_CHARS * 4))]
    reason: String,
}

carries_csrf!(RefuseForm);

#[post("/holder/<token>/refuse", format = "form", data = "<form>")]
async fn refuse(
    token: Option<HolderToken>,
    form: CsrfForm<Form<RefuseForm>>,
    csrf: FormToken,
    chosen: Chosen,
    host: HostUrl,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let reason = form.0.into_inner().reason;
    let result = holder::refuse(services, &token, &reason).await;
    let typed = Typed {
        reason: &reason,
        ..Typed::default()
    };
    answered(result, services, &host, &chosen, &token, &csrf, typed).await
}
