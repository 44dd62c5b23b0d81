//! Request guards: a handler that takes one cannot run without what it checks.

use rocket::http::Status;
use rocket::request::{FromParam, FromRequest, Outcome, Request};
use rocket::State;

use crate::crypto::TrackingToken;
use crate::services::Services;

/// Refuses a POST that a browser sent from another site. Clients that send neither
/// `Sec-Fetch-Site` nor `Origin` (scripts, the API's integrators) pass: the CSRF token is the
/// defence that does not depend on headers.
pub struct SameOrigin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameOrigin {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let headers = req.headers();
        let public_url = match req.guard::<&State<Services>>().await {
            Outcome::Success(services) => services.settings.public_url.clone(),
            _ => None,
        };
        let expected = match public_url {
            Some(url) => vec![origin_of(&url)],
            None => headers
                .get_one("Host")
                .filter(|host| !host.is_empty())
                .map(|host| vec![format!("http://{host}"), format!("https://{host}")])
                .unwrap_or_default(),
        };
        match judge_origin(
            headers.get_one("Sec-Fetch-Site"),
            headers.get_one("Origin"),
            &expected,
        ) {
            Ok(()) => Outcome::Success(SameOrigin),
            Err(why) => {
                tracing::warn!(route = %super::route_name(req), why, "refused a cross-site POST");
                Outcome::Error((Status::Forbidden, why))
            }
        }
    }
}

/// Whether a POST's headers say it came from this site. `Sec-Fetch-Site` decides first
/// (browsers set it and pages cannot forge it), then `Origin` must be one of `expected`.
/// `Origin: null` is what a browser sends when a referrer policy hides the origin; it passes
/// only together with `Sec-Fetch-Site: same-origin`.
pub fn judge_origin(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    expected: &[String],
) -> Result<(), &'static str> {
    match sec_fetch_site {
        None | Some("same-origin") | Some("none") => {}
        Some(_) => return Err("Sec-Fetch-Site names another site"),
    }
    match origin {
        None => Ok(()),
        Some("null") if sec_fetch_site == Some("same-origin") => Ok(()),
        Some("null") => Err("Origin is null without Sec-Fetch-Site: same-origin"),
        Some(origin) if expected.iter().any(|e| e.eq_ignore_ascii_case(origin)) => Ok(()),
        Some(_) => Err("Origin is not this service"),
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
            .is_some_and(|(name, _)| is_loopback_host(&name))
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

/// `localhost`, `127.x.y.z` or `::1` (with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A turn to send a request body with documents: at most a few bodies are read at once, a
/// client address sends at most a few of them, each start counts against the address, and
/// an address already at its limit is refused before its body is read.
pub struct UploadSlot {
    _slot: tokio::sync::OwnedSemaphorePermit,
    _client_turn: super::pacing::ClientTurn,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UploadSlot {
    type Error = super::Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, super::Error> {
        let Outcome::Success(services) = req.guard::<&State<Services>>().await else {
            let error = super::Error::Internal("no services".into());
            return Outcome::Error((Status::InternalServerError, error));
        };
        let ClientAddr(address) = match req.guard::<ClientAddr>().await {
            Outcome::Success(address) => address,
            _ => ClientAddr(None),
        };
        let address = address.unwrap_or_else(|| "unknown".into());
        let too_many = |wait: chrono::Duration, why: &str| {
            // The catcher adds `Retry-After` from this.
            req.local_cache(|| super::error::RetryAfter(Some(wait)));
            tracing::info!(route = %super::route_name(req), why, "refused an upload");
            Outcome::Error((Status::TooManyRequests, super::Error::TooMany(wait)))
        };
        let client = crate::counters::client_key(&address);
        let turn = req
            .rocket()
            .state::<super::pacing::ClientUploads>()
            .and_then(|uploads| uploads.take(&client, services.settings.uploads_per_client));
        let Some(client_turn) = turn else {
            return too_many(
                chrono::Duration::seconds(30),
                "the address is sending other uploads",
            );
        };
        let now = chrono::Utc::now();
        let over = match crate::workflow::address_over_limit(services, &address, now).await {
            Ok(None) => crate::workflow::limits::count_upload_start(services, &address, now).await,
            other => other,
        };
        match over {
            Ok(Some(wait)) => return too_many(wait, "the address is over its limit"),
            Ok(None) => {}
            Err(error) => {
                return Outcome::Error((Status::InternalServerError, error.into()));
            }
        }
        match services.uploads.clone().acquire_owned().await {
            Ok(permit) => Outcome::Success(UploadSlot {
                _slot: permit,
                _client_turn: client_turn,
            }),
            Err(_) => Outcome::Error((
                Status::ServiceUnavailable,
                super::Error::Internal("upload slots closed".into()),
            )),
        }
    }
}

/// A tracking token in a path; anything malformed is no token (the route answers 404, as
/// for an unknown one).
impl<'a> FromParam<'a> for TrackingToken {
    type Error = ();

    fn from_param(param: &'a str) -> Result<Self, ()> {
        TrackingToken::parse(param).ok_or(())
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
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        req.headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| TrackingToken::parse(token.trim()))
            .map_or(
                Outcome::Error((Status::NotFound, "no well-formed bearer token")),
                |token| Outcome::Success(BearerTracking(token)),
            )
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

    fn judge(site: Option<&str>, origin: Option<&str>) -> Result<(), &'static str> {
        judge_origin(site, origin, &["http://127.0.0.1:8000".to_owned()])
    }

    #[test]
    fn same_origin_form_posts_pass_in_every_browser() {
        // Chromium and Firefox under our `Referrer-Policy: no-referrer`: the origin is hidden
        // as `null`, and the fetch metadata says same-origin.
        assert_eq!(judge(Some("same-origin"), Some("null")), Ok(()));
        // Chromium, Firefox and Safari 16.4+ on a page whose policy lets the origin through.
        assert_eq!(
            judge(Some("same-origin"), Some("http://127.0.0.1:8000")),
            Ok(())
        );
        // Safari before 16.4 sends no fetch metadata; where it sends the real origin, it passes.
        assert_eq!(judge(None, Some("http://127.0.0.1:8000")), Ok(()));
        // curl and other scripts send neither header; the CSRF token still applies to forms.
        assert_eq!(judge(None, None), Ok(()));
    }

    #[test]
    fn cross_site_posts_fail_in_every_browser() {
        // Chromium, Firefox and Safari 16.4+ posting a form from another site.
        assert!(judge(Some("cross-site"), Some("https://evil.example")).is_err());
        // A sibling subdomain is another site for us too.
        assert!(judge(Some("same-site"), Some("https://evil.127.0.0.1")).is_err());
        // The cross-site form from a page whose referrer policy hides its origin.
        assert!(judge(Some("cross-site"), Some("null")).is_err());
        // Safari before 16.4: only the foreign origin tells.
        assert!(judge(None, Some("https://evil.example")).is_err());
        // `null` with no fetch metadata cannot be told apart from a sandboxed foreign page
        // (Safari before 16.4 sends this under our policy; see the README).
        assert!(judge(None, Some("null")).is_err());
        // A header says same-origin but the origin is foreign: the origin decides.
        assert!(judge(Some("same-origin"), Some("https://evil.example")).is_err());
    }

    #[test]
    fn top_level_navigations_pass() {
        // A typed URL or a bookmark: every browser sends `Sec-Fetch-Site: none` and no origin.
        assert_eq!(judge(Some("none"), None), Ok(()));
        // A link followed from another site is a GET; should a browser ever send such a
        // navigation as a POST, it is cross-site and refused.
        assert!(judge(Some("cross-site"), None).is_err());
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
    fn loopback_hosts_are_recognised() {
        for host in ["localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "desk.example.net",
            "10.0.0.1",
            "localhost.example",
            "[2001:db8::1]",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
