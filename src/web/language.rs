//! Which language a page is in: the `?lang=` of the switch on every page (remembered in a
//! cookie), else the cookie, else the browser's `Accept-Language`, else English.

use rocket::http::{Cookie, Method, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::platform::i18n::Lang;

const LANG_COOKIE: &str = "td_lang";

/// The language of this request's page, and the page's own path for the switch links.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub lang: Lang,
    /// The path a `?lang=` link reloads: the page itself, or for a form's answer the page
    /// the form is on.
    pub here: String,
}

/// The language for `req`, without remembering a choice (responders and catchers).
pub fn chosen_lang(req: &Request<'_>) -> Lang {
    asked_in_query(req)
        .or_else(|| {
            req.cookies()
                .get(LANG_COOKIE)
                .and_then(|c| Lang::from_code(c.value()))
        })
        .or_else(|| {
            req.headers()
                .get_one("Accept-Language")
                .map(Lang::negotiate)
        })
        .unwrap_or(Lang::En)
}

fn asked_in_query(req: &Request<'_>) -> Option<Lang> {
    req.query_value::<&str>("lang")
        .and_then(Result::ok)
        .and_then(Lang::from_code)
}

fn page_path(req: &Request<'_>) -> String {
    let path = req.uri().path().as_str();
    if req.method() == Method::Get {
        return path.to_owned();
    }
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => parent.to_owned(),
        _ => "/".to_owned(),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Chosen {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if let Some(lang) = asked_in_query(req) {
            req.cookies().add(
                Cookie::build((LANG_COOKIE, lang.code()))
                    .path("/")
                    .same_site(SameSite::Lax)
                    .http_only(true)
                    .secure(super::cookies::secure_cookies(req))
                    .max_age(rocket::time::Duration::days(365)),
            );
        }
        Outcome::Success(Chosen {
            lang: chosen_lang(req),
            here: page_path(req),
        })
    }
}

/// What a page with forms needs to know of its visitor: their form token, their language
/// and the address they reached the service at.
pub struct Visitor {
    pub csrf: super::csrf::FormToken,
    pub chosen: Chosen,
    pub host: super::HostUrl,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let csrf = match req.guard::<super::csrf::FormToken>().await {
            Outcome::Success(csrf) => csrf,
            Outcome::Error(error) => return Outcome::Error(error),
            Outcome::Forward(status) => return Outcome::Forward(status),
        };
        let Outcome::Success(chosen) = req.guard::<Chosen>().await else {
            unreachable!("choosing a language cannot fail");
        };
        let Outcome::Success(host) = req.guard::<super::HostUrl>().await else {
            unreachable!("the host URL always has a value");
        };
        Outcome::Success(Visitor { csrf, chosen, host })
    }
}

#[derive(Serialize)]
struct Choice {
    code: &'static str,
    name: &'static str,
}

/// Renders `name` in the chosen language: the context gains `lang`, `here` and the
/// `languages` of the switch.
pub fn page(name: &'static str, chosen: &Chosen, context: impl Serialize) -> Template {
    let mut value = serde_json::to_value(context).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("lang".into(), chosen.lang.code().into());
        map.insert("here".into(), chosen.here.clone().into());
        let languages: Vec<Choice> = Lang::ALL
            .iter()
            .map(|l| Choice {
                code: l.code(),
                name: l.name(),
            })
            .collect();
        map.insert(
            "languages".into(),
            serde_json::to_value(languages).unwrap_or_default(),
        );
    }
    Template::render(name, value)
}
