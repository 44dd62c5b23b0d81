//! Reviewer accounts in the browser: one's own password, and (for admins) the list of
//! reviewers with invitations, disabling, re-enabling and password resets. Passwords of
//! others are never chosen or seen: invitations and resets hand out a one-time link.

use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{carries_csrf, CsrfForm, FormToken};
use super::error::Error;
use super::guards::ClientAddr;
use super::review::link_page;
use super::session::{clear_session_cookie, AdminSession, ReviewerSession};
use super::{account_message, page, Chosen, FormAnswer, HostUrl};
use crate::accounts::{self, AccountError, PasswordChange};
use crate::crypto::PasswordLinkToken;
use crate::i18n::{Arg, Lang};
use crate::services::Services;
use entities::reviewer;

pub fn routes() -> Vec<Route> {
    routes![
        account_page,
        change_password,
        reviewers_page,
        invite,
        switch_account,
        reset,
        password_link_page,
        use_password_link,
    ]
}

type UrlEncoded<T> = CsrfForm<Form<T>>;

#[derive(FromForm)]
struct PasswordChangeForm {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    current: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password_again: String,
}

#[derive(FromForm)]
struct Invitation {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_NAME_CHARS * 4))]
    name: String,
    admin: bool,
}

#[derive(FromForm)]
struct Plain {
    csrf_token: String,
}

#[derive(FromForm)]
struct NewPassword {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password_again: String,
}

carries_csrf!(PasswordChangeForm, Invitation, Plain, NewPassword);

fn account_template(session: &ReviewerSession, chosen: &Chosen, message: Option<&str>) -> Template {
    let me = &session.0.reviewer;
    page(
        "review_account",
        chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token, message,
        },
    )
}

#[get("/account")]
fn account_page(session: ReviewerSession, chosen: Chosen) -> Template {
    account_template(&session, &chosen, None)
}

#[post("/account/password", format = "form", data = "<form>")]
async fn change_password(
    session: ReviewerSession,
    form: UrlEncoded<PasswordChangeForm>,
    chosen: Chosen,
    client: ClientAddr,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let form = form.0.into_inner();
    let again = |message: &str| {
        Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            account_template(&session, &chosen, Some(message)),
        )))
    };
    if form.password != form.password_again {
        return again(&chosen.lang.t("password-differ"));
    }
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let changed = accounts::change_own_password(
        &services.db,
        &services.throttle,
        &session.0,
        &form.current,
        &form.password,
        &address,
    )
    .await;
    match changed {
        Ok(PasswordChange::Changed) => Ok(FormAnswer::Next(Redirect::to("/review/login"))),
        Ok(PasswordChange::SignedOut) => {
            clear_session_cookie(jar);
            Ok(FormAnswer::Next(Redirect::to("/review/login")))
        }
        Ok(PasswordChange::WrongCurrent) => again(&chosen.lang.t("password-current-wrong")),
        Err(AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&account_message(&other, chosen.lang)),
    }
}

fn reviewers_template(
    session: &AdminSession,
    chosen: &Chosen,
    reviewers: Vec<entities::reviewer::Model>,
    link: Option<(String, String)>,
    flash: Option<(String, String)>,
) -> Template {
    let me = &session.0.reviewer;
    let rows: Vec<_> = reviewers
        .into_iter()
        .map(|r| context! { name: r.name, is_admin: r.is_admin, disabled: r.disabled })
        .collect();
    page(
        "review_reviewers",
        chosen,
        context! {
            me: &me.name, is_admin: true, csrf_token: &session.0.csrf_token, rows, link, flash,
            link_hours: accounts::PASSWORD_LINK_VALIDITY.num_hours(),
        },
    )
}

#[get("/reviewers")]
async fn reviewers_page(
    session: AdminSession,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let reviewers = accounts::list_reviewers(&services.db).await?;
    let flash = flash.map(|f| (f.kind().to_owned(), f.message().to_owned()));
    Ok(reviewers_template(
        &session, &chosen, reviewers, None, flash,
    ))
}

/// The reviewers page again, showing a one-time link once, to pass on.
async fn show_link(
    session: &AdminSession,
    chosen: &Chosen,
    services: &Services,
    host: &HostUrl,
    name: &str,
    token: &PasswordLinkToken,
) -> Result<Template, Error> {
    let link = format!("{}/review/password/{}", host.0, token.expose());
    let reviewers = accounts::list_reviewers(&services.db).await?;
    Ok(reviewers_template(
        session,
        chosen,
        reviewers,
        Some((name.to_owned(), link)),
        None,
    ))
}

fn back(
    result: Result<(), AccountError>,
    done: String,
    lang: Lang,
) -> Result<Flash<Redirect>, Error> {
    let to = Redirect::to("/review/reviewers");
    match result {
        Ok(()) => Ok(Flash::success(to, done)),
        Err(AccountError::Database(e)) => Err(e.into()),
        Err(other) => Ok(Flash::error(to, account_message(&other, lang))),
    }
}

#[post("/reviewers", format = "form", data = "<form>")]
async fn invite(
    session: AdminSession,
    form: UrlEncoded<Invitation>,
    host: HostUrl,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Result<Template, Flash<Redirect>>, Error> {
    let form = form.0.into_inner();
    let name = form.name.trim();
    let actor = &session.0.reviewer.name;
    match accounts::invite_reviewer(&services.db, name, form.admin, actor).await {
        Ok(token) => Ok(Ok(show_link(
            &session, &chosen, services, &host, name, &token,
        )
        .await?)),
        Err(error) => back(Err(error), String::new(), chosen.lang).map(Err),
    }
}

/// Disables (`/disable`, every session ends) or re-enables (`/enable`) a reviewer. An admin
/// cannot disable themselves.
#[post("/reviewers/<name>/<switch>", data = "<_form>", rank = 2)]
async fn switch_account(
    name: &str,
    switch: &str,
    session: AdminSession,
    _form: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let (disabled, done) = match switch {
        "disable" => (true, "reviewers-disabled"),
        "enable" => (false, "reviewers-enabled"),
        _ => return Err(Error::NotFound),
    };
    let me = &session.0.reviewer.name;
    if disabled && name == me {
        return Ok(Flash::error(
            Redirect::to("/review/reviewers"),
            chosen.lang.t("reviewers-not-yourself"),
        ));
    }
    let result = accounts::set_disabled(&services.db, name, disabled, me).await;
    let done = chosen.lang.t_with(done, &[("name", Arg::from(name))]);
    back(result, done, chosen.lang)
}

#[post("/reviewers/<name>/reset", data = "<_form>")]
async fn reset(
    name: &str,
    session: AdminSession,
    _form: UrlEncoded<Plain>,
    host: HostUrl,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Result<Template, Flash<Redirect>>, Error> {
    let actor = &session.0.reviewer.name;
    match accounts::reset_password(&services.db, name, actor).await {
        Ok(token) => Ok(Ok(show_link(
            &session, &chosen, services, &host, name, &token,
        )
        .await?)),
        Err(error) => back(Err(error), String::new(), chosen.lang).map(Err),
    }
}

/// A password link that is still valid, with the reviewer it was made for.
async fn valid_link(
    services: &Services,
    link: Option<PasswordLinkToken>,
) -> Result<(PasswordLinkToken, reviewer::Model), Error> {
    let link = link.ok_or(Error::NotFound)?;
    let holder = accounts::password_link_holder(&services.db, &link)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((link, holder))
}

#[get("/password/<link>")]
async fn password_link_page(
    link: Option<PasswordLinkToken>,
    token: FormToken,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let (link, holder) = valid_link(services, link).await?;
    Ok(link_page(
        "review_password",
        &chosen,
        &token,
        &link,
        &holder.name,
        None,
    ))
}

#[post("/password/<link>", format = "form", data = "<form>")]
async fn use_password_link(
    link: Option<PasswordLinkToken>,
    form: UrlEncoded<NewPassword>,
    token: FormToken,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let (link, holder) = valid_link(services, link).await?;
    let form = form.0.into_inner();
    let again = |message: &str| {
        Ok(FormAnswer::Again((
            Status::UnprocessableEntity,
            link_page(
                "review_password",
                &chosen,
                &token,
                &link,
                &holder.name,
                Some(message),
            ),
        )))
    };
    if form.password != form.password_again {
        return again(&chosen.lang.t("password-differ"));
    }
    match accounts::complete_password_link(&services.db, &link, &form.password).await {
        Ok(Some(_)) => Ok(FormAnswer::Next(Redirect::to("/review/login"))),
        Ok(None) => Err(Error::NotFound),
        Err(AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&account_message(&other, chosen.lang)),
    }
}
