//! One CSRF check for every form. A page's forms carry the token of whoever views it: the
//! signed-in reviewer's session token, otherwise the browser's own token kept in a private
//! (encrypted, HttpOnly, SameSite=Strict) cookie. `CsrfForm` accepts a POST only from this
//! origin and only with that same token.

use rocket::data::{self, Data, FromData};
use rocket::form::Form;
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};

use super::origin::SameOrigin;
use super::session::SignedIn;
use crate::platform::crypto::{sha256, FormSecret};

const CSRF_COOKIE: &str = "td_csrf";

/// The token this request's forms must carry.
pub struct FormToken(String);

impl FormToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FormToken {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        if let Outcome::Success(SignedIn(session)) = req.guard::<SignedIn>().await {
            return Outcome::Success(FormToken(session.csrf_token));
        }
        let jar = req.cookies();
        if let Some(cookie) = jar.get_private(CSRF_COOKIE) {
            return Outcome::Success(FormToken(cookie.value().to_owned()));
        }
        let Ok(token) = FormSecret::generate() else {
            return Outcome::Error((Status::InternalServerError, "no randomness for a token"));
        };
        let value = token.expose().to_owned();
        let secure = super::cookies::secure_cookies(req);
        jar.add_private(
            Cookie::build((CSRF_COOKIE, value.clone()))
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure)
                .path("/"),
        );
        Outcome::Success(FormToken(value))
    }
}

/// Whether `submitted` is `expected`. Comparing digests keeps timing useless.
pub fn tokens_match(expected: &str, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|submitted| sha256(submitted.as_bytes()) == sha256(expected.as_bytes()))
}

/// A form that carries a CSRF token.
pub trait CarriesCsrf {
    fn csrf_token(&self) -> Option<&str>;
}

impl<T: CarriesCsrf> CarriesCsrf for Form<T> {
    fn csrf_token(&self) -> Option<&str> {
        (**self).csrf_token()
    }
}

/// Forms whose `csrf_token: String` field is their token.
macro_rules! carries_csrf {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::csrf::CarriesCsrf for $form {
            fn csrf_token(&self) -> Option<&str> {
                Some(&self.csrf_token)
            }
        })+
    };
}
pub(crate) use carries_csrf;

/// A POSTed form (`T` is usually `Form<…>`) sent from this origin with the right token.
pub struct CsrfForm<T>(pub T);

/// Why a `CsrfForm` was refused.
#[derive(Debug)]
pub enum Refusal<E> {
    /// Sent from another site, or without the right token.
    Forbidden(&'static str),
    /// The form itself could not be read.
    Form(E),
    /// Something on our side (no randomness for a token).
    Internal(&'static str),
}

impl<E: Into<super::Error>> From<Refusal<E>> for super::Error {
    fn from(refusal: Refusal<E>) -> Self {
        match refusal {
            Refusal::Forbidden(_) => super::Error::Forbidden,
            Refusal::Form(error) => error.into(),
            Refusal::Internal(why) => super::Error::Internal(why.into()),
        }
    }
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfForm<T>
where
    T: FromData<'r> + CarriesCsrf + Send + 'r,
{
    type Error = Refusal<T::Error>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let refuse = |status, refusal| data::Outcome::Error((status, refusal));
        if !req.guard::<SameOrigin>().await.is_success() {
            return refuse(
                Status::Forbidden,
                Refusal::Forbidden("sent from another site"),
            );
        }
        let expected = match req.guard::<FormToken>().await {
            Outcome::Success(token) => token,
            _ => {
                return refuse(
                    Status::InternalServerError,
                    Refusal::Internal("no form token"),
                )
            }
        };
        let form = match T::from_data(req, data).await {
            data::Outcome::Success(form) => form,
            data::Outcome::Error((status, error)) => return refuse(status, Refusal::Form(error)),
            data::Outcome::Forward(forward) => return data::Outcome::Forward(forward),
        };
        if tokens_match(expected.as_str(), form.csrf_token()) {
            data::Outcome::Success(CsrfForm(form))
        } else {
            tracing::warn!(
                route = %super::route_name(req),
                "refused a form with a wrong or missing CSRF token"
            );
            refuse(
                Status::Forbidden,
                Refusal::Forbidden("wrong or missing CSRF token"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_value() {
        assert!(tokens_match("abc", Some("abc")));
        assert!(!tokens_match("abc", Some("abd")));
        assert!(!tokens_match("abc", None));
        assert!(!tokens_match("abc", Some("")));
    }
}
