//! The registrant's "this was not me" page, reached from the notice mailed on approval.

use chrono::Utc;
use rocket::form::Form;
use rocket::response::Redirect;
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{carries_csrf, CsrfForm};
use super::error::Error;
use super::language::Visitor;
use super::page;
use crate::platform::crypto::ObjectionToken;
use crate::workflow::objection;
use crate::workflow::services::Services;

pub fn routes() -> Vec<Route> {
    routes![objection_page, object]
}

#[get("/objection/<token>")]
async fn objection_page(
    token: Option<ObjectionToken>,
    visitor: Visitor,
    services: &State<Services>,
) -> Result<Template, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let view = objection::find(services, &token)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(page(
        "objection",
        &visitor.chosen,
        context! { view, token: token.expose(), csrf_token: visitor.csrf.as_str() },
    ))
}

#[derive(FromForm)]
struct Confirm {
    csrf_token: String,
}

carries_csrf!(Confirm);

/// Confirming cancels the code at once; the page then says so.
#[post("/objection/<token>", format = "form", data = "<_form>")]
async fn object(
    token: Option<ObjectionToken>,
    _form: CsrfForm<Form<Confirm>>,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    let token = token.ok_or(Error::NotFound)?;
    if !objection::object(services, &token, Utc::now()).await? {
        return Err(Error::NotFound);
    }
    Ok(Redirect::to(format!("/objection/{}", token.expose())))
}
