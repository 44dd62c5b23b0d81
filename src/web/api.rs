//! The JSON API for integrators: the same workflow as the form. Its OpenAPI document
//! (`openapi`) is derived from these handlers and the answer types they serialise.

mod answers;
mod openapi;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use uuid::Uuid;

use super::error::Error;
use super::forms::{RequestForm, UploadError};
use super::guards::{BearerTracking, ClientAddr, UploadSlot};
use super::origin::SameOrigin;
use super::{Chosen, HostUrl};
use crate::web::links::PageLinks;
use crate::workflow;
use crate::workflow::services::Services;
use answers::{Created, ErrorAnswer, FieldErrorsAnswer, RequestAnswer};

pub fn routes() -> Vec<Route> {
    routes![create_request, request_status, openapi::openapi_json]
}

/// Submits a request, as the form does.
///
/// The request must be for a domain in the portfolio. Each photo goes through the same
/// intake as on the form (decoded by memory-safe code, re-encoded, sealed); what fails is
/// answered field by field and nothing is stored.
#[utoipa::path(
    context_path = "/api/v1",
    tag = "requests",
    request_body(
        content = openapi::RequestFields,
        content_type = "multipart/form-data",
        description = "The form's fields; files are JPEG, PNG or WebP."
    ),
    responses(
        (status = 201, description = "Stored. With `holder_verifies`, the status is \
            `awaiting_holder` and the holder's private link went by mail to the holder alone.",
            body = Created),
        (status = 400, description = "The multipart body could not be read.", body = ErrorAnswer),
        (status = 403, description = "A browser request from another origin.", body = ErrorAnswer),
        (status = 408, description = "The upload was slower than `TRANSFER_DESK_UPLOAD_MIN_RATE` \
            after its grace, or took longer than `TRANSFER_DESK_UPLOAD_DEADLINE_SECONDS`; \
            nothing stored.", body = ErrorAnswer),
        (status = 413, description = "A file over 20 MiB, a body over 45 MiB, or a text field \
            far longer than any real value; nothing stored.", body = ErrorAnswer),
        (status = 415, description = "Not `multipart/form-data`.", body = ErrorAnswer),
        (status = 421, description = "A `Host` the service does not answer to (an HTML page).",
            content_type = "text/html"),
        (status = 422, description = "Every problem at once, by field; nothing stored.",
            body = FieldErrorsAnswer),
        (status = 429, description = "Too many requests from this address (or its uploads \
            in flight); nothing stored.", body = ErrorAnswer,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Something failed on the server; nothing was promised.",
            body = ErrorAnswer),
    )
)]
#[post("/requests", data = "<form>")]
async fn create_request(
    _slot: UploadSlot,
    _same_origin: SameOrigin,
    client: ClientAddr,
    host: HostUrl,
    chosen: Chosen,
    services: &State<Services>,
    form: Result<RequestForm, UploadError>,
) -> Result<(Status, Json<Created>), Error> {
    let input = form?.into_input(client.0, chosen.lang);
    let links = PageLinks(host.0.clone());
    let submitted = workflow::submit(services, input, &links).await?;
    // The holder's link, when the holder verifies, went to the holder's mailbox alone.
    let answer = Created::new(&submitted, &links);
    Ok((Status::Created, Json(answer)))
}

/// The request's state, its timeline and, once approved, its code.
///
/// An unknown id, a token of another request, a malformed or missing token: all the same
/// `404`, so that the API tells nothing about which requests exist.
#[utoipa::path(
    context_path = "/api/v1",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The `request_id` given at creation.")),
    security(("tracking_token" = [])),
    responses(
        (status = 200, description = "The request as its requester may see it.", body = RequestAnswer),
        (status = 404, description = "No request for this id and token.", body = ErrorAnswer),
        (status = 421, description = "A `Host` the service does not answer to (an HTML page).",
            content_type = "text/html"),
        (status = 500, description = "Something failed on the server.", body = ErrorAnswer),
    )
)]
#[get("/requests/<id>")]
async fn request_status(
    id: Option<Uuid>,
    bearer: BearerTracking,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Json<RequestAnswer>, Error> {
    let id = id.ok_or(Error::NotFound)?;
    let view = workflow::find_for_requester(services, &bearer.0, Some(id))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(RequestAnswer::new(view, chosen.lang)))
}
