//! Request guards: a handler that takes one cannot run without what it checks.

use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

use crate::crypto::TrackingToken;
use crate::services::Services;

/// Refuses a request a browser marks as sent from another site (`Sec-Fetch-Site`), or
/// whose `Origin` is not this service. Clients that send neither (scripts) pass.
pub struct SameOrigin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameOrigin {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let headers = req.headers();
        if let Some(site) = headers.get_one("Sec-Fetch-Site") {
            if !matches!(site, "same-origin" | "none") {
                return Outcome::Error((Status::Forbidden, ()));
            }
        }
        let Some(origin) = headers.get_one("Origin") else {
            return Outcome::Success(SameOrigin);
        };
        let public_url = match req.guard::<&State<Services>>().await {
            Outcome::Success(services) => services.settings.public_url.clone(),
            _ => None,
        };
        let same = match public_url {
            Some(url) => origin.eq_ignore_ascii_case(&origin_of(&url)),
            None => {
                let host = headers.get_one("Host").unwrap_or_default();
                let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
                !host.is_empty() && authority.eq_ignore_ascii_case(host)
            }
        };
        if same {
            Outcome::Success(SameOrigin)
        } else {
            Outcome::Error((Status::Forbidden, ()))
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

const CSRF_COOKIE: &str = "td_csrf";

/// The CSRF token of this browser, kept in a private (encrypted, HttpOnly, SameSite=Strict)
/// cookie and repeated in each form; a POST whose copy differs is refused.
pub struct CsrfToken(String);

impl CsrfToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `submitted` (from the form) matches. Comparing digests keeps timing useless.
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        let Some(submitted) = submitted else {
            return false;
        };
        crate::crypto::sha256(submitted.as_bytes()) == crate::crypto::sha256(self.0.as_bytes())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let jar: &CookieJar<'_> = req.cookies();
        if let Some(cookie) = jar.get_private(CSRF_COOKIE) {
            return Outcome::Success(CsrfToken(cookie.value().to_owned()));
        }
        let Ok(token) = TrackingToken::generate() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let value = token.expose().to_owned();
        jar.add_private(
            Cookie::build((CSRF_COOKIE, value.clone()))
                .http_only(true)
                .same_site(SameSite::Strict)
                .path("/"),
        );
        Outcome::Success(CsrfToken(value))
    }
}

/// The client's address: the socket's peer, unless that peer is a configured trusted proxy,
/// in which case the nearest `X-Forwarded-For` entry that is not itself a trusted proxy.
pub struct ClientAddr(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(peer) = req.remote().map(|addr| addr.ip()) else {
            return Outcome::Success(ClientAddr(None));
        };
        let trusted = match req.guard::<&State<Services>>().await {
            Outcome::Success(services) => services.settings.trusted_proxies.clone(),
            _ => Vec::new(),
        };
        Outcome::Success(ClientAddr(Some(
            client_ip(peer, req.headers().get("X-Forwarded-For"), &trusted).to_string(),
        )))
    }
}

fn client_ip<'a>(
    peer: std::net::IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<std::net::IpAddr> = forwarded
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// The tracking token from `Authorization: Bearer …`; anything else is a 404, like an
/// unknown token, so the API tells nothing about which requests exist.
pub struct BearerTracking(pub TrackingToken);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BearerTracking {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        req.headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| TrackingToken::parse(token.trim()))
            .map_or(Outcome::Error((Status::NotFound, ())), |token| {
                Outcome::Success(BearerTracking(token))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_of_keeps_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://desk.example.net/base"),
            "https://desk.example.net"
        );
        assert_eq!(origin_of("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let peer: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        let header = ["198.51.100.7, 10.0.0.1"];
        assert_eq!(client_ip(peer, header.into_iter(), &[proxy]), peer);
        assert_eq!(client_ip(proxy, header.into_iter(), &[]), proxy);
        assert_eq!(
            client_ip(proxy, header.into_iter(), &[proxy]),
            "198.51.100.7".parse::<std::net::IpAddr>().unwrap()
        );
    }

    #[test]
    fn csrf_tokens_compare_by_value() {
        let token = CsrfToken("abc".into());
        assert!(token.matches(Some("abc")));
        assert!(!token.matches(Some("abd")));
        assert!(!token.matches(None));
    }
}
