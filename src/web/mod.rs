//! HTTP: routes by audience, guards, security headers and the error mapping.

mod accounts;
mod api;
mod cookies;
mod csrf;
mod eid;
mod error;
mod forms;
mod guards;
mod holder;
mod hosts;
mod language;
pub mod links;
mod log;
pub mod metrics;
mod notices;
mod objection;
mod ops;
mod origin;
mod pacing;
mod passkeys;
mod public;
mod review;
mod session;
mod slots;
mod wording;

use std::io::IsTerminal;
use std::time::Instant;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::fs::FileServer;
use rocket::http::Header;
use rocket::request::Request;
use rocket::{Build, Data, Response, Rocket};
use rocket_dyn_templates::Template;

pub use eid::CSRF_EXEMPT;
pub use error::Error;
pub use hosts::HostUrl;
pub use language::{page, Chosen};

/// What a form POST answers: on to the next page, or the same form again (with what the
/// person typed and why it was refused).
#[derive(rocket::Responder)]
pub enum FormAnswer {
    Next(rocket::response::Redirect),
    Again((rocket::http::Status, Template)),
}

/// Words for a reviewer-account problem shown on a page.
pub fn account_message(
    error: &crate::accounts::AccountError,
    lang: crate::platform::i18n::Lang,
) -> String {
    use crate::accounts::AccountError;
    use crate::accounts::PasswordError;
    use crate::platform::i18n::Text;
    let text = match error {
        AccountError::NameTaken(name) => {
            Text::new("account-name-taken").with("name", name.as_str())
        }
        AccountError::NameLooksLike { name, existing } => Text::new("account-name-looks-like")
            .with("name", name.as_str())
            .with("existing", existing.as_str()),
        AccountError::InvalidName => Text::new("account-invalid-name"),
        AccountError::InvalidEmail(_) => Text::new("account-invalid-email"),
        AccountError::Password(PasswordError::Length) => Text::new("account-password-length"),
        AccountError::UnknownReviewer(name) => {
            Text::new("account-unknown").with("name", name.as_str())
        }
        _ => Text::new("account-not-saved"),
    };
    text.in_lang(lang)
}

use crate::workflow::services::Services;

/// Mounts every audience under its prefix, with the fairings every response passes through.
pub fn mount(rocket: Rocket<Build>, assets: &crate::platform::assets::Unpacked) -> Rocket<Build> {
    rocket
        .manage(slots::UploadSlots::default())
        .mount("/", in_request_spans(public::routes()))
        .mount("/", in_request_spans(holder::routes()))
        .mount("/", in_request_spans(eid::routes()))
        .mount("/", in_request_spans(objection::routes()))
        .mount("/", in_request_spans(rocket::routes![hosts::misdirected]))
        .mount("/", in_request_spans(ops::routes()))
        .mount("/", in_request_spans(log::routes()))
        .mount("/", in_request_spans(notices::public_routes()))
        .mount("/review", in_request_spans(notices::staff_routes()))
        .mount("/api/v1", in_request_spans(api::routes()))
        .mount("/review", in_request_spans(review::routes()))
        .mount("/review", in_request_spans(accounts::routes()))
        .mount("/review", in_request_spans(passkeys::routes()))
        .mount(
            "/static",
            in_request_spans(FileServer::from(&assets.static_files).into()),
        )
        .register("/", error::catchers())
        .register("/review", review::catchers())
        .attach(Template::custom(|engines| crate::platform::i18n::register(&mut engines.tera)))
        .attach(hosts::HostCheck)
        .attach(AdHoc::on_response("security headers", |req, res| {
            Box::pin(async move { add_security_headers(req, res) })
        }))
        .attach(AdHoc::on_response("flash cookie flags", |req, res| {
            Box::pin(async move { flag_flash_cookie(req, res) })
        }))
        .attach(RequestLog)
        .attach(AdHoc::on_liftoff(
            "announce and start background jobs",
            |rocket| {
                Box::pin(async move {
                    let config = rocket.config();
                    let base = format!("http://{}:{}", config.address, config.port);
                    tracing::info!("Transfer Desk is listening on {base}");
                    if let Some(services) = rocket.state::<Services>() {
                        let settings = &services.settings;
                        tracing::info!(
                            public_url = settings.public_url.as_deref().unwrap_or("(none)"),
                            allowed_hosts = %settings.allowed_hosts.join(", "),
                            "answering to loopback addresses, the public URL's host and the allowed hosts; any other Host gets 421"
                        );
                        announce_setup_link(services, &base).await;
                        crate::workflow::jobs::start(services);
                    }
                })
            },
        ))
}

/// Where the first-admin link is written when standard error is not a terminal.
pub const SETUP_LINK_FILE: &str = "first-admin-link.txt";

/// With no reviewer at all, hands the operator a one-time link that creates the first admin:
/// on the terminal when there is one, else in a 0600 file in the data directory. Never in the
/// log, which others may read.
async fn announce_setup_link(services: &Services, base: &str) {
    let file = services.settings.data_dir.join(SETUP_LINK_FILE);
    match crate::accounts::setup_token_if_needed(&services.db).await {
        Ok(Some(token)) => {
            let base = services.settings.public_url.as_deref().unwrap_or(base);
            let link = format!("{base}/review/setup/{}", token.expose());
            if std::io::stderr().is_terminal() {
                eprintln!("\nNo reviewer exists yet. Create the first admin within one hour at\n  {link}\n");
            } else {
                match crate::platform::config::data_dir::write_private_file(&file, format!("{link}\n").as_bytes()) {
                    Ok(()) => tracing::warn!(
                        "no reviewer exists yet: the one-time link that creates the first admin (valid one hour) is in {}",
                        file.display()
                    ),
                    Err(error) => tracing::error!(%error, "cannot write {}", file.display()),
                }
            }
        }
        Ok(None) => {
            let _ = std::fs::remove_file(&file);
        }
        Err(error) => tracing::error!(%error, "cannot prepare the first-admin setup link"),
    }
}

/// The route pattern (`/track/<token>`), never the path itself: paths carry tracking tokens.
pub fn route_name(req: &Request<'_>) -> String {
    req.route()
        .map_or_else(|| "(no route)".to_owned(), |route| route.uri.to_string())
}

pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Strict headers on every response, errors included.
fn add_security_headers(req: &Request<'_>, res: &mut Response<'_>) {
    if !res.headers().contains("Content-Security-Policy") {
        res.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
    }
    res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
    res.set_header(Header::new("Referrer-Policy", "no-referrer"));
    res.set_header(Header::new("X-Frame-Options", "DENY"));
    res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
    let https = req
        .rocket()
        .state::<Services>()
        .and_then(|s| s.settings.public_url.as_deref())
        .is_some_and(|url| url.starts_with("https://"));
    if https {
        res.set_header(Header::new(
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    if !req.uri().path().starts_with("/static/") {
        res.set_header(Header::new("Cache-Control", "no-store"));
    }
}

/// Rocket's flash-message cookie is set without `HttpOnly` (and without `Secure`): both are
/// added here, as for every other cookie the service sets.
fn flag_flash_cookie(req: &Request<'_>, res: &mut Response<'_>) {
    let cookies: Vec<String> = res.headers().get("Set-Cookie").map(str::to_owned).collect();
    if !cookies.iter().any(|c| c.starts_with("_flash=")) {
        return;
    }
    let secure = cookies::secure_cookies(req);
    res.remove_header("Set-Cookie");
    for mut cookie in cookies {
        if cookie.starts_with("_flash=") {
            let has = |flag: &str| {
                cookie
                    .split(';')
                    .any(|part| part.trim().eq_ignore_ascii_case(flag))
            };
            let (http_only, already_secure) = (has("HttpOnly"), has("Secure"));
            if !http_only {
                cookie.push_str("; HttpOnly");
            }
            if secure && !already_secure {
                cookie.push_str("; Secure");
            }
        }
        res.adjoin_header(Header::new("Set-Cookie", cookie));
    }
}

/// Runs a route's handler (its guards, the workflow it calls, its responder) inside a span
/// carrying the request id, so that every line the request causes names it.
#[derive(Clone)]
struct InRequestSpan(Box<dyn rocket::route::Handler>);

#[rocket::async_trait]
impl rocket::route::Handler for InRequestSpan {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> rocket::route::Outcome<'r> {
        use tracing::Instrument;
        let span = tracing::info_span!("request", request_id = %RequestId::of(req));
        self.0.handle(req, data).instrument(span).await
    }
}

fn in_request_spans(routes: Vec<rocket::Route>) -> Vec<rocket::Route> {
    routes
        .into_iter()
        .map(|mut route| {
            route.handler = Box::new(InRequestSpan(route.handler));
            route
        })
        .collect()
}

/// One log line per request, naming the route pattern rather than the path.
struct RequestLog;

#[derive(Clone, Copy)]
struct Started(Instant);

/// The id of one request: in its log lines and in its `X-Request-Id` header, so that a
/// person's report ("it said error, id 3f2a…") finds the lines.
#[derive(Clone)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn of(req: &Request<'_>) -> String {
        req.local_cache(|| RequestId(String::new())).0.clone()
    }
}

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Started(Instant::now()));
        req.local_cache(|| RequestId(uuid::Uuid::new_v4().simple().to_string()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let elapsed = req.local_cache(|| Started(Instant::now())).0.elapsed();
        let request_id = RequestId::of(req);
        tracing::info!(
            request_id = %request_id,
            method = %req.method(),
            route = %route_name(req),
            status = res.status().code,
            ms = elapsed.as_millis() as u64,
            "request"
        );
        res.set_header(Header::new("X-Request-Id", request_id));
    }
}
