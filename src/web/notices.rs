//! The host's incident notices: admins post and end them (`/review/notices`); everyone reads
//! them on the request form, the tracking pages, `/status` and `/status.json`.

use std::collections::BTreeMap;

use chrono::Utc;
use rocket::form::{Form, FromForm};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use super::csrf::{carries_csrf, CsrfForm};
use super::error::Error;
use super::session::AdminSession;
use super::Chosen;
use crate::workflow::notices::{NewNotice, Notice, NoticeError, Words, LANGUAGES, SEVERITIES};
use crate::workflow::services::Services;

pub fn public_routes() -> Vec<Route> {
    routes![status_page, status_json]
}

pub fn staff_routes() -> Vec<Route> {
    routes![notices_page, post_notice, end_notice]
}

/// A live notice as a page shows it, in one language.
#[derive(serde::Serialize)]
pub struct Shown {
    severity: String,
    title: String,
    text: String,
    updated_at: chrono::DateTime<Utc>,
}

/// The live notices in `language` (English where a notice has no text in it).
pub fn shown(services: &Services, lang: crate::platform::i18n::Lang) -> Vec<Shown> {
    let language = lang.code();
    services
        .notices
        .live(Utc::now())
        .iter()
        .filter_map(|notice| {
            notice.words(language).map(|words| Shown {
                severity: notice.severity.clone(),
                title: words.title.clone(),
                text: words.text.clone(),
                updated_at: notice.updated_at,
            })
        })
        .collect()
}

#[get("/status")]
fn status_page(chosen: Chosen, services: &State<Services>) -> Template {
    super::page(
        "status",
        &chosen,
        context! { notices: shown(services, chosen.lang) },
    )
}

#[get("/status.json")]
fn status_json(services: &State<Services>) -> Json<Vec<Notice>> {
    Json(services.notices.live(Utc::now()))
}

#[derive(FromForm)]
struct NoticeForm {
    csrf_token: String,
    severity: String,
    hours: i64,
    #[field(validate = len(..=16_000))]
    title: BTreeMap<String, String>,
    #[field(validate = len(..=64_000))]
    text: BTreeMap<String, String>,
}

#[derive(FromForm)]
struct Plain {
    csrf_token: String,
}

carries_csrf!(NoticeForm, Plain);

#[get("/notices")]
fn notices_page(
    session: AdminSession,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Template {
    let me = &session.0.reviewer;
    super::page(
        "review_notices",
        &chosen,
        context! {
            me: &me.name, is_admin: true, csrf_token: &session.0.csrf_token,
            live: services.notices.live(Utc::now()), severities: SEVERITIES,
            notice_languages: LANGUAGES,
            flash: flash.map(|f| (f.kind().to_owned(), f.message().to_owned())),
        },
    )
}

fn notice_message(error: NoticeError) -> &'static str {
    match error {
        NoticeError::EnglishMissing => "notices-english-missing",
        NoticeError::TooLong => "notices-too-long",
        NoticeError::Severity => "notices-severity",
        NoticeError::Duration => "notices-duration",
        NoticeError::TooMany => "notices-too-many",
    }
}

#[post("/notices", format = "form", data = "<form>")]
async fn post_notice(
    session: AdminSession,
    form: CsrfForm<Form<NoticeForm>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let form = form.0.into_inner();
    let texts = LANGUAGES
        .iter()
        .map(|language| {
            let get =
                |map: &BTreeMap<String, String>| map.get(*language).cloned().unwrap_or_default();
            (
                (*language).to_owned(),
                Words {
                    title: get(&form.title),
                    text: get(&form.text),
                },
            )
        })
        .collect();
    let notice = NewNotice {
        severity: form.severity,
        texts,
        hours: form.hours,
    };
    let back = Redirect::to("/review/notices");
    let actor = &session.0.reviewer.name;
    match services
        .notices
        .post(&services.db, &notice, actor, Utc::now())
        .await?
    {
        Ok(_) => Ok(Flash::success(back, chosen.lang.t("notices-posted"))),
        Err(error) => Ok(Flash::error(back, chosen.lang.t(notice_message(error)))),
    }
}

#[post("/notices/<id>/end", data = "<_form>")]
async fn end_notice(
    id: Option<Uuid>,
    session: AdminSession,
    _form: CsrfForm<Form<Plain>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let actor = &session.0.reviewer.name;
    if !services
        .notices
        .end(&services.db, id, actor, Utc::now())
        .await?
    {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        Redirect::to("/review/notices"),
        chosen.lang.t("notices-ended"),
    ))
}
