//! The queue: waiting requests, oldest first, and claiming the next one.

use chrono::Utc;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, State};
use rocket_dyn_templates::{context, Template};
use sea_orm::Iterable;

use super::{back_to, Plain, UrlEncoded};
use crate::web::error::Error;
use crate::web::session::ReviewerSession;
use crate::web::Chosen;
use crate::workflow::queue::{self as claims, QueueFilter};
use crate::workflow::services::Services;
use crate::workflow::{parse, RequestState};

#[get("/?<state>&<domain>&<mine>&<refused>&<page>")]
#[allow(clippy::too_many_arguments)]
pub(super) async fn queue_page(
    session: ReviewerSession,
    state: Option<&str>,
    domain: Option<&str>,
    mine: Option<bool>,
    refused: Option<bool>,
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
        registry_refused: refused.unwrap_or(false),
        page: page.unwrap_or(0).min(10_000),
    };
    let now = Utc::now();
    let found = claims::queue(&services.db, &filter, me, now).await?;
    let summary = claims::summary(&services.db, now).await?;
    let states: Vec<RequestState> = RequestState::iter().collect();
    Ok(crate::web::language::page(
        "review_queue",
        &chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token,
            items: found.items, summary, states, state: state.unwrap_or(""), domain: domain.unwrap_or(""),
            mine: filter.mine, refused: filter.registry_refused, flash: flash.map(|f| f.message().to_owned()),
            page: filter.page, has_next: found.has_next,
        },
    ))
}

#[post("/claim-next", data = "<_checked>")]
pub(super) async fn claim_next(
    session: ReviewerSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let me = &session.0.reviewer;
    match claims::claim_next(&services.db, &services.settings, me, Utc::now()).await? {
        Some(id) => Ok(Flash::success(
            back_to(crate::workflow::RequestId(id)),
            chosen.lang.t("review-claimed"),
        )),
        None => Ok(Flash::warning(
            Redirect::to("/review"),
            chosen.lang.t("review-nothing-waiting"),
        )),
    }
}
