//! Request guards: a handler that takes one cannot run without what it checks.

use rocket::http::Status;
use rocket::request::{FromParam, FromRequest, Outcome, Request};
use rocket::State;

use crate::platform::crypto::{HolderToken, ObjectionToken, PasswordLinkToken, TrackingToken};
use crate::workflow::services::Services;

/// A turn to send a request body with documents: at most a few bodies are read at once, a
/// client address sends at most a few of them, each start counts against the address, and
/// an address already at its limit is refused before its body is read. When every slot is
/// taken, a client with none takes the slowest body's (`slots`).
pub struct UploadSlot {
    _slot: super::slots::Slot,
}

/// How long a guard that refused with 429 asked the client to wait, for the catcher.
#[derive(Clone, Copy, Default)]
pub struct RetryAfter(pub Option<chrono::Duration>);

/// The progress of this request's body in its slot, for the body's reader.
pub struct SlotProgress(pub Option<std::sync::Arc<super::slots::Progress>>);

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
            req.local_cache(|| RetryAfter(Some(wait)));
            tracing::info!(route = %super::route_name(req), why, "refused an upload");
            Outcome::Error((Status::TooManyRequests, super::Error::TooMany(wait)))
        };
        let queued = req
            .rocket()
            .state::<super::slots::UploadSlots>()
            .and_then(|slots| slots.queue(&address, services.settings.uploads_per_client));
        let Some(mut slot) = queued else {
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
        slot.turn().await;
        req.local_cache(|| SlotProgress(slot.progress()));
        Outcome::Success(UploadSlot { _slot: slot })
    }
}

/// A token in a path; anything malformed is no token (the route answers 404, as for an
/// unknown one).
macro_rules! token_in_path {
    ($($token:ty),+) => {$(
        impl<'a> FromParam<'a> for $token {
            type Error = ();

            fn from_param(param: &'a str) -> Result<Self, ()> {
                <$token>::parse(param).ok_or(())
            }
        }
    )+};
}

token_in_path!(
    TrackingToken,
    HolderToken,
    ObjectionToken,
    PasswordLinkToken
);

/// The client's address: the socket's peer, unless that peer is a configured trusted proxy,
/// in which case the nearest `X-Forwarded-For` entry that is not itself a trusted proxy.
/// Entries may carry a port (`198.51.100.7:4711`, `[2001:db8::1]:443`). An entry that
/// cannot be read ends the walk at the trusted hop that wrote it: the entries before it are
/// the client's own claims, and believing them would let anyone choose their address.
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
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
    let mut nearest = peer;
    for hop in hops.into_iter().rev() {
        match forwarded_address(hop.trim()) {
            Some(address) if trusted.contains(&address) => nearest = address,
            Some(address) => return address,
            None => return nearest,
        }
    }
    nearest
}

/// One `X-Forwarded-For` entry: an address, with or without a port.
fn forwarded_address(hop: &str) -> Option<std::net::IpAddr> {
    hop.parse()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
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
    fn forwarded_entries_with_ports_are_read_and_an_unreadable_one_believes_nothing_before_it() {
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.1");
        let inner = ip("10.0.0.2");
        let client = |header: &str| client_ip(proxy, [header].into_iter(), &[proxy, inner]);
        assert_eq!(client("198.51.100.7:4711"), ip("198.51.100.7"));
        assert_eq!(client("[2001:db8::1]:443"), ip("2001:db8::1"));
        assert_eq!(client("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(client("6.6.6.6, 198.51.100.7:4711"), ip("198.51.100.7"));
        // What the proxy appended cannot be read: whatever stands before it is the client's
        // own claim, so the request is the proxy's.
        assert_eq!(client("6.6.6.6, unknown"), proxy);
        assert_eq!(client("6.6.6.6, 198.51.100.7:port"), proxy);
        assert_eq!(client("6.6.6.6, [2001:db8::1"), proxy);
        assert_eq!(client("6.6.6.6, unknown, 10.0.0.2"), inner);
    }
}
