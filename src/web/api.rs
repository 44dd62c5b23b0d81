//! The JSON API for integrators: the same workflow as the form.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::Error;
use super::forms::{RequestForm, UploadError};
use super::guards::{BearerTracking, ClientAddr, UploadSlot};
use super::origin::SameOrigin;
use super::{Chosen, HostUrl};
use crate::workflow;
use crate::workflow::services::Services;

pub fn routes() -> Vec<Route> {
    routes![create_request, request_status]
}

#[post("/requests", data = "<form>")]
async fn create_request(
    _slot: UploadSlot,
    _same_origin: SameOrigin,
    client: ClientAddr,
    host: HostUrl,
    chosen: Chosen,
    services: &State<Services>,
    form: Result<RequestForm, UploadError>,
) -> Result<(Status, Json<Value>), Error> {
    let input = form?.into_input(client.0, chosen.lang, host.0.clone());
    let submitted = workflow::submit(services, input).await?;
    let token = submitted.tracking_token.expose();
    // The holder's link, when the holder verifies, went to the holder's mailbox alone.
    let answer = json!({
        "request_id": submitted.request_id,
        "tracking_token": token,
        "tracking_url": format!("{}/track/{token}", host.0),
        "status": submitted.state,
    });
    Ok((Status::Created, Json(answer)))
}

#[get("/requests/<id>")]
async fn request_status(
    id: Option<Uuid>,
    bearer: BearerTracking,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Json<Value>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let view = workflow::find_for_requester(services, &bearer.0, Some(id))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(json!({
        "request_id": view.request_id,
        "domain": view.domain,
        "status": view.state,
        "created_at": view.created_at,
        "timeline": view.timeline,
        "requested_document": view.requested_document,
        "requested_note": view.requested_note,
        "reason": view.reason.as_ref().map(|r| r.in_lang(chosen.lang)),
        "reason_key": view.reason.as_ref().and_then(|r| r.key.clone()),
        "transfer_code": view.transfer_code,
        "code_expires_at": view.code_expires_at,
        "kind": view.kind,
        "nameservers": view.nameservers,
        "nameservers_set_at": view.nameservers_set_at,
        "holder_name": view.holder_name,
    })))
}
