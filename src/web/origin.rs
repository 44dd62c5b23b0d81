//! The same-origin check of every POST, from what real browsers send.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

use crate::workflow::services::Services;

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
        // (Safari before 16.4 sends this under our policy; see the book's security chapter).
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
}
