//! Reviewer accounts in the browser: one's own password, and (for admins) the list of
//! reviewers with invitations, disabling, re-enabling and password resets. Passwords of
//! others are never chosen or seen: invitations and resets hand out a one-time link.

use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use super::csrf::{carries_csrf, CsrfForm, FormToken};
use super::error::Error;
use super::guards::ClientAddr;
use super::passkeys::{step_up_needed, step_up_page};
use super::review::{enrol_next, link_page};
use super::session::{clear_session_cookie, AdminSession, SignedIn};
use super::{account_message, page, Chosen, FormAnswer, HostUrl};
use crate::accounts::{self, AccountError, PasswordChange};
use crate::platform::config::review::PasskeyPolicy;
use crate::platform::crypto::PasswordLinkToken;
use crate::platform::i18n::{Arg, Lang};
use crate::workflow::services::Services;
use entities::reviewer;

pub fn routes() -> Vec<Route> {
    routes![
        account_page,
        change_password,
        reviewers_page,
        invite,
        switch_account,
        reset,
        passkey_link,
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
    #[field(validate = len(..=254))]
    email: Option<String>,
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

/// The account page: one's passkeys (and, when they are required and there is none yet,
/// why nothing else works), and the password.
async fn account_template(
    session: &SignedIn,
    chosen: &Chosen,
    message: Option<&str>,
    flash: Option<(String, String)>,
    services: &Services,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let passkeys = accounts::passkeys::list(&services.db, me.id).await?;
    let passkey_required = services.settings.staff_passkeys == PasskeyPolicy::Required;
    Ok(page(
        "review_account",
        chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token, message,
            flash, passkeys, must_add_passkey: passkey_required && session.0.passkeys == 0,
        },
    ))
}

#[get("/account")]
async fn account_page(
    session: SignedIn,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let flash = flash.map(|f| (f.kind().to_owned(), f.message().to_owned()));
    account_template(&session, &chosen, None, flash, services).await
}

#[post("/account/password", format = "form", data = "<form>")]
async fn change_password(
    session: SignedIn,
    form: UrlEncoded<PasswordChangeForm>,
    chosen: Chosen,
    client: ClientAddr,
    jar: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<FormAnswer, Error> {
    let form = form.0.into_inner();
    let again = async |message: &str| {
        let page = account_template(&session, &chosen, Some(message), None, services).await?;
        Ok(FormAnswer::Again((Status::UnprocessableEntity, page)))
    };
    if form.password != form.password_again {
        return again(&chosen.lang.t("password-differ")).await;
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
        Ok(PasswordChange::WrongCurrent) => again(&chosen.lang.t("password-current-wrong")).await,
        Err(AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&account_message(&other, chosen.lang)).await,
    }
}

/// How far back the reviewers page lists changes to passkeys.
const PASSKEY_CHANGE_DAYS: i64 = 30;

/// What the reviewers page shows: each reviewer with how many passkeys they have, and the
/// recent changes to passkeys.
struct ReviewerRows {
    reviewers: Vec<(reviewer::Model, u64)>,
    passkey_changes: Vec<entities::audit_event::Model>,
}

async fn reviewer_rows(services: &Services) -> Result<ReviewerRows, Error> {
    let mut reviewers = Vec::new();
    for reviewer in accounts::list_reviewers(&services.db).await? {
        let passkeys = accounts::passkeys::count(&services.db, reviewer.id).await?;
        reviewers.push((reviewer, passkeys));
    }
    let since = chrono::Utc::now() - chrono::Duration::days(PASSKEY_CHANGE_DAYS);
    let passkey_changes = crate::evidence::audit::passkey_changes(&services.db, since, 50).await?;
    Ok(ReviewerRows {
        reviewers,
        passkey_changes,
    })
}

/// A one-time link shown once on the reviewers page: for whom, the link, how many passkeys
/// a reset removed, and whether it enrols a passkey (rather than setting a password).
type ShownLink = (String, String, u64, bool);

fn reviewers_template(
    session: &AdminSession,
    chosen: &Chosen,
    shown: ReviewerRows,
    link: Option<ShownLink>,
    flash: Option<(String, String)>,
) -> Template {
    let me = &session.0.reviewer;
    let rows: Vec<_> = shown
        .reviewers
        .into_iter()
        .map(|(r, passkeys)| {
            context! { name: r.name, is_admin: r.is_admin, disabled: r.disabled, passkeys }
        })
        .collect();
    let passkey_changes: Vec<_> = shown
        .passkey_changes
        .into_iter()
        .map(|e| context! { at: e.at, actor: e.actor, action: e.action, detail: e.detail })
        .collect();
    page(
        "review_reviewers",
        chosen,
        context! {
            me: &me.name, is_admin: true, csrf_token: &session.0.csrf_token, rows, link, flash,
            link_hours: accounts::PASSWORD_LINK_VALIDITY.num_hours(), passkey_changes,
            passkey_change_days: PASSKEY_CHANGE_DAYS,
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
    let reviewers = reviewer_rows(services).await?;
    let flash = flash.map(|f| (f.kind().to_owned(), f.message().to_owned()));
    Ok(reviewers_template(
        &session, &chosen, reviewers, None, flash,
    ))
}

/// What a one-time link shown to an admin does.
enum Shown {
    /// Sets the password (an invitation, or a reset that removed this many passkeys).
    Password { passkeys_removed: u64 },
    /// Enrols a passkey.
    Passkey,
}

/// The reviewers page again, showing a one-time link once, to pass on.
async fn show_link(
    session: &AdminSession,
    chosen: &Chosen,
    services: &Services,
    host: &HostUrl,
    name: &str,
    (token, shown): (&PasswordLinkToken, Shown),
) -> Result<(Status, Template), Error> {
    let (path, passkeys_removed, enrols) = match shown {
        Shown::Password { passkeys_removed } => ("password", passkeys_removed, false),
        Shown::Passkey => ("enrol", 0, true),
    };
    let link = format!("{}/review/{path}/{}", host.0, token.expose());
    let rows = reviewer_rows(services).await?;
    let page = reviewers_template(
        session,
        chosen,
        rows,
        Some((name.to_owned(), link, passkeys_removed, enrols)),
        None,
    );
    Ok((Status::Ok, page))
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

/// An admin's action on reviewers waits for the admin's passkey, when they have one.
fn step_up_first(
    session: &AdminSession,
    chosen: &Chosen,
    token: &FormToken,
    action: &str,
    fields: Vec<(&'static str, String)>,
) -> Option<(Status, Template)> {
    step_up_needed(&session.0)
        .then(|| step_up_page(&session.0.reviewer, chosen, token, action, fields))
}

#[post("/reviewers", format = "form", data = "<form>")]
async fn invite(
    session: AdminSession,
    form: UrlEncoded<Invitation>,
    host: HostUrl,
    chosen: Chosen,
    token: FormToken,
    services: &State<Services>,
) -> Result<Result<(Status, Template), Flash<Redirect>>, Error> {
    let form = form.0.into_inner();
    let email = form.email.as_deref().map(str::trim).unwrap_or_default();
    let fields = vec![
        ("name", form.name.clone()),
        ("email", email.to_owned()),
        ("admin", form.admin.to_string()),
    ];
    if let Some(page) = step_up_first(&session, &chosen, &token, "/review/reviewers", fields) {
        return Ok(Ok(page));
    }
    let name = form.name.trim();
    let actor = &session.0.reviewer.name;
    let email = (!email.is_empty()).then_some(email);
    match accounts::invite_reviewer(&services.db, name, email, form.admin, actor).await {
        Ok(token) => Ok(Ok(show_link(
            &session,
            &chosen,
            services,
            &host,
            name,
            (
                &token,
                Shown::Password {
                    passkeys_removed: 0,
                },
            ),
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
    token: FormToken,
    services: &State<Services>,
) -> Result<Either<(Status, Template), Flash<Redirect>>, Error> {
    let action = format!("/review/reviewers/{name}/{switch}");
    if let Some(page) = step_up_first(&session, &chosen, &token, &action, vec![]) {
        return Ok(Either::Left(page));
    }
    switch_now(name, switch, &session, &chosen, services)
        .await
        .map(Either::Right)
}

async fn switch_now(
    name: &str,
    switch: &str,
    session: &AdminSession,
    chosen: &Chosen,
    services: &Services,
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
    token: FormToken,
    services: &State<Services>,
) -> Result<Result<(Status, Template), Flash<Redirect>>, Error> {
    let action = format!("/review/reviewers/{name}/reset");
    if let Some(page) = step_up_first(&session, &chosen, &token, &action, vec![]) {
        return Ok(Ok(page));
    }
    let actor = &session.0.reviewer.name;
    match accounts::reset_password(&services.db, name, actor).await {
        Ok(reset) => {
            let removed = reset.passkeys_removed.as_ref();
            if let Some(change) = removed {
                super::passkeys::tell(services, change).await;
            }
            let passkeys_removed = match removed.map(|c| &c.what) {
                Some(accounts::passkeys::ChangeKind::AllRemoved(count)) => *count,
                _ => 0,
            };
            Ok(Ok(show_link(
                &session,
                &chosen,
                services,
                &host,
                name,
                (&reset.token, Shown::Password { passkeys_removed }),
            )
            .await?))
        }
        Err(error) => back(Err(error), String::new(), chosen.lang).map(Err),
    }
}

/// A one-time link that enrols a passkey for a reviewer (their first, where passkeys are
/// required, or one to replace a lost device).
#[post("/reviewers/<name>/passkey-link", data = "<_form>")]
async fn passkey_link(
    name: &str,
    session: AdminSession,
    _form: UrlEncoded<Plain>,
    host: HostUrl,
    chosen: Chosen,
    token: FormToken,
    services: &State<Services>,
) -> Result<Result<(Status, Template), Flash<Redirect>>, Error> {
    let action = format!("/review/reviewers/{name}/passkey-link");
    if let Some(page) = step_up_first(&session, &chosen, &token, &action, vec![]) {
        return Ok(Ok(page));
    }
    let actor = &session.0.reviewer.name;
    match accounts::issue_enrolment_link(&services.db, name, actor).await {
        Ok(link) => Ok(Ok(show_link(
            &session,
            &chosen,
            services,
            &host,
            name,
            (&link, Shown::Passkey),
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
        Ok(Some((_, enrolment))) => Ok(FormAnswer::Next(enrol_next(&enrolment))),
        Ok(None) => Err(Error::NotFound),
        Err(AccountError::Database(e)) => Err(e.into()),
        Err(other) => again(&account_message(&other, chosen.lang)),
    }
}
