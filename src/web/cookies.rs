//! Whether the cookies the service sets must be `Secure`.

use rocket::request::{FromRequest, Outcome, Request};

use crate::workflow::services::Services;

/// Whether cookies must be `Secure`: always with an `https://` public URL (a proxy that
/// passes `Host: 127.0.0.1:8000` changes nothing), and otherwise unless this request reached
/// the service on a loopback address (a developer's or a test's plain-HTTP `127.0.0.1`).
pub fn secure_cookies(req: &Request<'_>) -> bool {
    let https = req
        .rocket()
        .state::<Services>()
        .and_then(|s| s.settings.public_url.as_deref())
        .is_some_and(|url| url.starts_with("https://"));
    https
        || !req
            .headers()
            .get_one("Host")
            .and_then(super::hosts::parse_host)
            .is_some_and(|(name, _)| super::hosts::is_loopback_host(&name))
}

/// The answer of [`secure_cookies`] for this request, for handlers that set a cookie.
pub struct SecureCookies(pub bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SecureCookies {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(SecureCookies(secure_cookies(req)))
    }
}
