//! The e-ID over HTTP. For the wallet: the signed request at `request_uri` and the answer at
//! `response_uri`, the only POST of the service without a CSRF token or an origin check
//! (a wallet is no browser: it sends neither, and its answer is bound to its session by the
//! session's own key, nonce and `state`). For the requester and the holder: a new session,
//! photos instead, the poll that tells a page when to move on, and the same-device return.

use chrono::Utc;
use rocket::data::{Data, ToByteUnit};
use rocket::form::Form;
use rocket::http::{ContentType, Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::context;
use serde_json::{json, Value};
use uuid::Uuid;

use super::cookies::SecureCookies;
use super::csrf::{carries_csrf, CsrfForm, Refusal};
use super::error::Error;
use super::forms::{PhotosForm, UploadError};
use super::guards::{ClientAddr, UploadSlot};
use super::links::PageLinks;
use super::{page, Chosen, HostUrl};
use crate::eid::Eid;
use crate::platform::crypto::{EidBrowserBinding, EidResponseCode, HolderToken, TrackingToken};
use crate::workflow::eid::sessions::{NewSession, SessionError};
use crate::workflow::eid::wallet;
use crate::workflow::services::Services;
use crate::workflow::{self, eid as flow};

/// The largest answer read from a wallet: the protocol refuses a `response` over 256 KiB
/// before parsing it; the form around it may add a little.
const MAX_ANSWER_BYTES: u64 = 256 * 1024 + 1024;

pub fn routes() -> Vec<Route> {
    routes![
        request_object,
        request_object_same_device,
        wallet_answer,
        new_requester_session,
        photos_instead,
        requester_state,
        new_holder_session,
        holder_state,
        same_device_return,
    ]
}

/// The POST routes that take no CSRF token and no origin check: the wallet's answer alone.
pub const CSRF_EXEMPT: [&str; 1] = ["/eid/sessions/<id>/response"];

fn eid(services: &Services) -> Result<&Eid, Error> {
    services.eid.as_deref().ok_or(Error::NotFound)
}

/// An OAuth error answer for the wallet (RFC 6749 §5.2).
fn oauth_error(status: Status, error: &str, description: &str) -> (Status, Json<Value>) {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
}

fn session_refused(error: &SessionError) -> (Status, Json<Value>) {
    if error.is_internal() {
        tracing::error!(%error, "an e-ID session failed");
        return oauth_error(
            Status::InternalServerError,
            "server_error",
            "the verifier failed; try again",
        );
    }
    oauth_error(Status::BadRequest, error.oauth_error(), &error.to_string())
}

fn session_id(id: &str) -> Option<Uuid> {
    Uuid::try_parse(id).ok()
}

/// The signed request object, as `application/oauth-authz-req+jwt`.
pub enum RequestObject {
    Jwt(String),
    Refused((Status, Json<Value>)),
}

impl<'r> rocket::response::Responder<'r, 'static> for RequestObject {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        match self {
            RequestObject::Jwt(jwt) => {
                let content_type = ContentType::new("application", "oauth-authz-req+jwt");
                (content_type, jwt).respond_to(req)
            }
            RequestObject::Refused(refused) => refused.respond_to(req),
        }
    }
}

async fn serve_request(
    services: &Services,
    host: &HostUrl,
    id: &str,
    same_device: bool,
) -> Result<RequestObject, Error> {
    let eid = eid(services)?;
    let Some(id) = session_id(id) else {
        let refused = oauth_error(Status::BadRequest, "invalid_request", "no such session");
        return Ok(RequestObject::Refused(refused));
    };
    let made = wallet::request_object(
        services,
        eid,
        id,
        same_device,
        &PageLinks(host.0.clone()),
        Utc::now(),
    )
    .await;
    Ok(match made {
        Ok(jwt) => RequestObject::Jwt(jwt),
        Err(error) => RequestObject::Refused(session_refused(&error)),
    })
}

#[get("/eid/sessions/<id>/request")]
async fn request_object(
    id: &str,
    host: HostUrl,
    services: &State<Services>,
) -> Result<RequestObject, Error> {
    serve_request(services, &host, id, false).await
}

#[get("/eid/sessions/<id>/request/same-device")]
async fn request_object_same_device(
    id: &str,
    host: HostUrl,
    services: &State<Services>,
) -> Result<RequestObject, Error> {
    serve_request(services, &host, id, true).await
}

/// The `response` field of an `application/x-www-form-urlencoded` body; the refusal for the
/// wallet when the body is not that (another type, no field, two of them, an unencrypted
/// `vp_token`).
fn response_field(content_type: Option<&ContentType>, body: &str) -> Result<String, &'static str> {
    if !content_type.is_some_and(|ct| ct.is_form()) {
        return Err(
            "the answer must be application/x-www-form-urlencoded (response_mode direct_post.jwt)",
        );
    }
    let mut response = None;
    let mut unencrypted = false;
    for pair in body.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            rocket::http::RawStr::new(text)
                .url_decode()
                .ok()
                .map(|v| v.into_owned())
        };
        match decode(name).as_deref() {
            Some("response") if response.is_some() => {
                return Err("the response field is given twice")
            }
            Some("response") => {
                response = Some(decode(value).ok_or("the response field is not URL-encoded")?)
            }
            Some("vp_token") => unencrypted = true,
            _ => {}
        }
    }
    match response {
        Some(response) if !response.is_empty() => Ok(response),
        _ if unencrypted => Err(
            "the answer is not encrypted: response_mode is direct_post.jwt, send response=<JWE>",
        ),
        _ => Err("no response field"),
    }
}

/// The wallet's answer: `200 {}` (or, on the same device, where to send the person back),
/// or `400` with an OAuth error.
#[post("/eid/sessions/<id>/response", data = "<body>")]
async fn wallet_answer(
    id: &str,
    content_type: Option<&ContentType>,
    body: Data<'_>,
    host: HostUrl,
    services: &State<Services>,
) -> Result<(Status, Json<Value>), Error> {
    let eid = eid(services)?;
    let refuse = |why: &str| Ok(oauth_error(Status::BadRequest, "invalid_request", why));
    let Some(id) = session_id(id) else {
        return refuse("no such session");
    };
    let read = body.open(MAX_ANSWER_BYTES.bytes()).into_string().await;
    let body = match read {
        Ok(body) if body.is_complete() => body.into_inner(),
        Ok(_) => return refuse("the answer is larger than allowed"),
        Err(_) => return refuse("the answer is not text"),
    };
    let response = match response_field(content_type, &body) {
        Ok(response) => response,
        Err(why) => return refuse(why),
    };
    match wallet::answer(
        services,
        eid,
        id,
        &response,
        &PageLinks(host.0.clone()),
        Utc::now(),
    )
    .await
    {
        Ok(answered) => Ok((
            Status::Ok,
            Json(match answered.redirect_uri {
                Some(redirect_uri) => json!({"redirect_uri": redirect_uri}),
                None => json!({}),
            }),
        )),
        Err(error) => Ok(session_refused(&error)),
    }
}

/// The cookie that marks this browser as the one that started a session, and where to
/// bring it back to: read only by the same-device return.
fn cookie_name(session_id: Uuid) -> String {
    format!("td_eid_{}", session_id.simple())
}

/// Remembers in this browser (a private, HttpOnly cookie sent only to `/eid/return`) that
/// it started `session`, and which page to bring it back to.
pub(super) fn remember_browser(
    jar: &CookieJar<'_>,
    secure: bool,
    session: &NewSession,
    back_to: &str,
) {
    let value = format!("{} {back_to}", session.binding.expose());
    jar.add_private(
        Cookie::build((cookie_name(session.id), value))
            .http_only(true)
            // The wallet app opens the return link: a top-level navigation from outside.
            .same_site(SameSite::Lax)
            .secure(secure)
            .path("/eid/return")
            .max_age(rocket::time::Duration::hours(1)),
    );
}

#[derive(FromForm)]
struct SessionForm {
    csrf_token: String,
}

carries_csrf!(SessionForm);

/// A new session made from the page at `back_to`: this browser remembers it started it, and
/// goes back to the page's e-ID panel.
fn started(
    made: Result<NewSession, SessionError>,
    jar: &CookieJar<'_>,
    secure: SecureCookies,
    back_to: String,
) -> Result<Redirect, Error> {
    let session = made.map_err(|error| match error {
        SessionError::NotFound
        | SessionError::Answered
        | SessionError::Expired
        | SessionError::Closed => Error::NotFound,
        other => Error::Internal(other.to_string()),
    })?;
    remember_browser(jar, secure.0, &session, &back_to);
    Ok(Redirect::to(format!("{back_to}#eid")))
}

/// The requester starts a new wallet session (the last one expired or was abandoned).
#[post("/track/<token>/eid/session", format = "form", data = "<form>")]
async fn new_requester_session(
    token: Option<TrackingToken>,
    form: CsrfForm<Form<SessionForm>>,
    jar: &CookieJar<'_>,
    secure: SecureCookies,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    let _ = form;
    let token = token.ok_or(Error::NotFound)?;
    let made = flow::new_requester_session(services, &token, Utc::now()).await;
    started(made, jar, secure, format!("/track/{}", token.expose()))
}

/// The holder proves who they are with the e-ID from their own page.
#[post("/holder/<token>/eid/session", format = "form", data = "<form>")]
async fn new_holder_session(
    token: Option<HolderToken>,
    form: CsrfForm<Form<SessionForm>>,
    jar: &CookieJar<'_>,
    secure: SecureCookies,
    services: &State<Services>,
) -> Result<Redirect, Error> {
    let _ = form;
    let token = token.ok_or(Error::NotFound)?;
    let made = flow::new_holder_session(services, &token, Utc::now()).await;
    started(made, jar, secure, format!("/holder/{}", token.expose()))
}

/// The requester sends photos of their identity document instead.
#[post("/track/<token>/eid/photos", data = "<form>")]
async fn photos_instead(
    token: Option<TrackingToken>,
    _slot: UploadSlot,
    form: Result<CsrfForm<PhotosForm>, Refusal<UploadError>>,
    client: ClientAddr,
    services: &State<Services>,
) -> Result<super::FormAnswer, Error> {
    let token = token.ok_or(Error::NotFound)?;
    let (said_type, front, back) = form?.0.into_photos();
    let address = client.0.unwrap_or_else(|| "unknown".into());
    let track = format!("/track/{}", token.expose());
    flow::photos_instead(services, &token, &said_type, front, back, &address).await?;
    Ok(super::FormAnswer::Next(Redirect::to(track)))
}

/// What a waiting page polls: the request's state, nothing else.
#[get("/track/<token>/eid/status")]
async fn requester_state(
    token: Option<TrackingToken>,
    services: &State<Services>,
) -> Result<Json<Value>, Error> {
    let token = token.ok_or(Error::NotFound)?;
    polled(flow::state_for_requester(&services.db, &token).await?)
}

#[get("/holder/<token>/eid/status")]
async fn holder_state(
    token: Option<HolderToken>,
    services: &State<Services>,
) -> Result<Json<Value>, Error> {
    let token = token.ok_or(Error::NotFound)?;
    polled(flow::state_for_holder(&services.db, &token).await?)
}

/// The poll's answer: the state of the request the link opens, or not found.
fn polled(state: Option<workflow::RequestState>) -> Result<Json<Value>, Error> {
    let state = state.ok_or(Error::NotFound)?;
    Ok(Json(json!({"state": state})))
}

/// Where a same-device wallet sends the person back with the response code. The answer
/// counts only in the browser that started the session (its cookie): a session started by
/// someone else and sent to a victim's phone proves nothing for them.
#[get("/eid/return?<response_code>")]
async fn same_device_return(
    response_code: Option<&str>,
    jar: &CookieJar<'_>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<rocket::Either<Redirect, (Status, rocket_dyn_templates::Template)>, Error> {
    let now = Utc::now();
    let refused = |chosen: &Chosen| {
        let page = page("eid_return", chosen, context! {});
        Ok(rocket::Either::Right((Status::Forbidden, page)))
    };
    let Some(code) = response_code.and_then(EidResponseCode::parse) else {
        return refused(&chosen);
    };
    let Some(session) = flow::sessions::session_of_code(&services.db, &code, now).await? else {
        return refused(&chosen);
    };
    let cookie = jar.get_private(&cookie_name(session.id));
    let (binding, back_to) = match cookie.as_ref().and_then(|c| c.value().split_once(' ')) {
        Some((binding, back_to)) => (EidBrowserBinding::parse(binding), back_to.to_owned()),
        None => (None, String::new()),
    };
    match wallet::confirm(services, &code, binding.as_ref(), now).await {
        Ok(_) => {
            jar.remove_private(Cookie::build(cookie_name(session.id)).path("/eid/return"));
            Ok(rocket::Either::Left(Redirect::to(back_to)))
        }
        Err(error) if error.is_internal() => Err(Error::Internal(error.to_string())),
        Err(_) => refused(&chosen),
    }
}

/// `swiyu-verify://?client_id=…&request_uri=…`, URL-encoded.
pub fn wallet_link(client_id: &str, request_uri: &str) -> String {
    format!(
        "swiyu-verify://?client_id={}&request_uri={}",
        percent_encode(client_id),
        percent_encode(request_uri)
    )
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a waiting page shows of the e-ID: the QR code and the same-device link of the live
/// session, or nothing when it expired (the page offers a new one).
#[derive(serde::Serialize)]
pub struct Panel {
    pub session: Option<PanelSession>,
}

#[derive(serde::Serialize)]
pub struct PanelSession {
    /// An SVG image, made here from our own link.
    pub qr_svg: String,
    pub same_device_link: String,
    pub expires_at: chrono::DateTime<Utc>,
}

pub(super) async fn panel(
    services: &Services,
    host: &HostUrl,
    request_id: Uuid,
    subject: entities::enums::EidSubject,
) -> Result<Option<Panel>, Error> {
    let Some(eid) = services.eid.as_deref() else {
        return Ok(None);
    };
    let live = flow::live_session(&services.db, request_id, subject, Utc::now()).await?;
    let client_id = eid.verifier.client_id();
    let session = match live {
        Some(live) => {
            let cross = wallet_link(
                &client_id,
                &PageLinks(host.0.clone()).eid_request(live.id, false),
            );
            let same = wallet_link(
                &client_id,
                &PageLinks(host.0.clone()).eid_request(live.id, true),
            );
            Some(PanelSession {
                qr_svg: qr_svg(&cross)?,
                same_device_link: same,
                expires_at: live.expires_at,
            })
        }
        None => None,
    };
    Ok(Some(Panel { session }))
}

fn qr_svg(text: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| Error::Internal(format!("QR code: {error}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    // Inline in HTML: the XML declaration has no place there.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].to_owned())
}

/// The e-ID part of a submission: the browser that submitted is the one that started the
/// session.
pub(super) fn after_submission(jar: &CookieJar<'_>, secure: bool, submitted: &workflow::Submitted) {
    if let Some(session) = &submitted.eid_session {
        let back_to = format!("/track/{}", submitted.tracking_token.expose());
        remember_browser(jar, secure, session, &back_to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wallet_link_is_url_encoded() {
        let link = wallet_link(
            "decentralized_identifier:did:tdw:abc",
            "https://desk.example/eid/sessions/x/request?a=b&c",
        );
        assert_eq!(
            link,
            "swiyu-verify://?client_id=decentralized_identifier%3Adid%3Atdw%3Aabc&request_uri=https%3A%2F%2Fdesk.example%2Feid%2Fsessions%2Fx%2Frequest%3Fa%3Db%26c"
        );
    }

    #[test]
    fn only_a_form_with_one_encrypted_response_is_read() {
        let form = ContentType::Form;
        assert_eq!(
            response_field(Some(&form), "response=abc.def&x=1"),
            Ok("abc.def".into())
        );
        assert!(response_field(Some(&ContentType::JSON), "response=abc").is_err());
        assert!(response_field(None, "response=abc").is_err());
        let twice = response_field(Some(&form), "response=a&response=b");
        assert!(twice.unwrap_err().contains("twice"));
        let plain = response_field(Some(&form), "vp_token=eyJ&presentation_submission=x");
        assert!(plain.unwrap_err().contains("not encrypted"));
        assert!(response_field(Some(&form), "").is_err());
    }
}
