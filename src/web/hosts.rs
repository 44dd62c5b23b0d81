//! Which `Host` the service answers to. Links are built only from the public URL or from
//! a host on the allow-list; a request for any other host is answered 421 before a handler
//! runs, so that `Host: evil.example` can never end up in a tracking link.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Method, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, Data, State};

use crate::platform::config::Settings;
use crate::workflow::services::Services;

/// Where a refused request is sent (never reachable from outside with a good Host).
pub const MISDIRECTED_PATH: &str = "/.misdirected";

/// A `Host` header split into its name and port, if it is a well-formed one.
pub fn parse_host(header: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if let Some(rest) = header.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        inside.parse::<std::net::Ipv6Addr>().ok()?;
        (format!("[{inside}]"), after)
    } else {
        match header.split_once(':') {
            Some((name, port)) => (name.to_owned(), &header[name.len()..][..=port.len()]),
            None => (header.to_owned(), ""),
        }
    };
    let port = match port.strip_prefix(':') {
        Some(digits) => Some(digits.parse::<u16>().ok()?),
        None if port.is_empty() => None,
        None => return None,
    };
    let plain = !name.is_empty()
        && (name.starts_with('[')
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    plain.then(|| (name.to_ascii_lowercase(), port))
}

/// Whether `settings` let the service answer to `header`.
pub fn host_allowed(settings: &Settings, header: &str) -> bool {
    let Some((name, port)) = parse_host(header) else {
        return false;
    };
    if is_loopback_host(&name) {
        return true;
    }
    let public = settings
        .public_url
        .as_deref()
        .and_then(|url| url.split_once("://"))
        .and_then(|(_, rest)| parse_host(rest.split('/').next().unwrap_or_default()));
    public
        .into_iter()
        .chain(
            settings
                .allowed_hosts
                .iter()
                .filter_map(|allowed| parse_host(allowed)),
        )
        .any(|(allowed_name, allowed_port)| {
            allowed_name == name && (allowed_port.is_none() || allowed_port == port)
        })
}

/// Sends requests for a host the service does not answer to the 421 route.
pub struct HostCheck;

#[rocket::async_trait]
impl Fairing for HostCheck {
    fn info(&self) -> Info {
        Info {
            name: "allowed hosts",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        // HTTP/1.0 clients may send no Host (hyper then shows an empty one): nothing to check.
        let Some(header) = req
            .headers()
            .get_one("Host")
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
        else {
            return;
        };
        if super::ops::ANY_HOST_PATHS.contains(&req.uri().path().as_str()) {
            return;
        }
        let allowed = match req.rocket().state::<Services>() {
            Some(services) => host_allowed(&services.settings, &header),
            None => false,
        };
        if !allowed {
            tracing::warn!(host = %header.chars().take(100).collect::<String>(), "refused a request for a host this service does not answer to");
            req.set_method(Method::Get);
            req.set_uri(rocket::http::uri::Origin::parse(MISDIRECTED_PATH).expect("a valid path"));
        }
    }
}

#[get("/.misdirected")]
pub fn misdirected() -> Status {
    Status::MisdirectedRequest
}

/// The base URL for links to this service: the public URL, else `http://` and the request's
/// (allowed) `Host`, else the address the service listens on.
pub struct HostUrl(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for HostUrl {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let services = req.guard::<&State<Services>>().await.succeeded();
        if let Some(url) = services.and_then(|s| s.settings.public_url.clone()) {
            return Outcome::Success(HostUrl(url));
        }
        let url = match req.headers().get_one("Host").filter(|h| !h.is_empty()) {
            Some(host) => format!("http://{host}"),
            None => {
                let config = req.rocket().config();
                format!("http://{}:{}", config.address, config.port)
            }
        };
        Outcome::Success(HostUrl(url))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: Option<&str>, allowed: &[&str]) -> Settings {
        let mut settings = Settings::in_dir("/nonexistent");
        settings.public_url = public_url.map(str::to_owned);
        settings.allowed_hosts = allowed.iter().map(|h| h.to_string()).collect();
        settings
    }

    #[test]
    fn hosts_parse_strictly() {
        assert_eq!(
            parse_host("Example.COM:8443"),
            Some(("example.com".into(), Some(8443)))
        );
        assert_eq!(parse_host("[::1]:8000"), Some(("[::1]".into(), Some(8000))));
        assert_eq!(parse_host("127.0.0.1"), Some(("127.0.0.1".into(), None)));
        for bad in [
            "127.0.0.1:8000@evil.example",
            "a b",
            "",
            "x:",
            "x:99999",
            "[nope]",
            "ex/ample",
        ] {
            assert_eq!(parse_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn loopback_the_public_url_and_the_list_are_allowed_and_nothing_else() {
        let s = settings(Some("https://desk.example.net"), &["desk.internal:8000"]);
        for good in [
            "127.0.0.1:8000",
            "localhost",
            "[::1]:9",
            "desk.example.net",
            "desk.internal:8000",
        ] {
            assert!(host_allowed(&s, good), "{good}");
        }
        for bad in [
            "evil.example",
            "127.0.0.1:8000@evil.example",
            "desk.internal:9000",
            "desk.example.net.evil",
        ] {
            assert!(!host_allowed(&s, bad), "{bad}");
        }
        assert!(!host_allowed(&settings(None, &[]), "desk.example.net"));
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
