//! Signing in and out, and the first admin's setup through the one-time link.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, State};
use rocket_dyn_templates::{context, Template};

use super::{Plain, UrlEncoded};
use crate::accounts::{self, LoginOutcome};
use crate::platform::config::review::PasskeyPolicy;
use crate::platform::crypto::PasswordLinkToken;
use crate::platform::i18n::Arg;
use crate::web::cookies::SecureCookies;
use crate::web::csrf::{carries_csrf, FormToken};
use crate::web::error::Error;
use crate::web::guards::ClientAddr;
use crate::web::session::{clear_session_cookie, set_session_cookie, SignedIn};
use crate::web::{page, Chosen, FormAnswer};
use crate::workflow::services::Services;

#[derive(FromForm)]
pub(super) struct LoginForm {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_NAME_CHARS * 4))]
    name: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
}

#[derive(FromForm)]
pub(super) struct SetupForm {
    csrf_token: String,
    #[field(validate = len(..=accounts::MAX_NAME_CHARS * 4))]
    name: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password: String,
    #[field(validate = len(..=accounts::MAX_PASSWORD_BYTES))]
    password_again: String,
}

carries_csrf!(LoginForm, SetupForm);

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
pub(super) fn login_page(token: FormToken, chosen: Chosen) -> Template {
    login_template(&chosen, &token, "", None)
}

#[post("/login", format = "form", data = "<form>")]
pub(super) async fn login(
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
    let passkeys_required = services.settings.staff_passkeys == PasskeyPolicy::Required;
    let outcome = accounts::login(
        &services.db,
        &services.throttle,
        name,
        &form.password,
        &address,
        passkeys_required,
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
        // Where passkeys are required a password never signs in, right or wrong, and the
        // one answer says both.
        LoginOutcome::Refused if passkeys_required => again(
            Status::Unauthorized,
            &chosen.lang.t("login-refused-passkeys"),
        ),
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
pub(super) async fn logout(
    session: SignedIn,
    _checked: UrlEncoded<Plain>,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    accounts::sessions::logout(&services.db, &session.0).await?;
    clear_session_cookie(jar);
    Ok(Redirect::to("/review/login"))
}

/// A page reached through a one-time link (`review_setup`, `review_password`): the form
/// posts back to the same link.
pub(in crate::web) fn link_page(
    template: &'static str,
    chosen: &Chosen,
    token: &FormToken,
    link: &PasswordLinkToken,
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
pub(super) async fn setup_page(
    link: Option<PasswordLinkToken>,
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
pub(super) async fn setup(
    link: Option<PasswordLinkToken>,
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
        Ok(Some((_, enrolment))) => {
            let _ =
                std::fs::remove_file(services.settings.data_dir.join(crate::web::SETUP_LINK_FILE));
            Ok(FormAnswer::Next(enrol_next(&enrolment)))
        }
        Ok(None) => Err(Error::NotFound),
        Err(accounts::AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&crate::web::account_message(&other, chosen.lang)),
    }
}

/// Where a password just set through a one-time link leads: to adding a passkey, through the
/// enrolment link made for the same person.
pub(in crate::web) fn enrol_next(enrolment: &PasswordLinkToken) -> Redirect {
    Redirect::to(format!("/review/enrol/{}", enrolment.expose()))
}
