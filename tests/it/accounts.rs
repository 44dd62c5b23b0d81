//! Admins manage reviewers in the browser, and every reviewer changes their own password:
//! no admin ever chooses or sees another reviewer's password.

use crate::common::*;
use rocket::http::{ContentType, Cookie, Status};

async fn app() -> TestApp {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("alice", true).await;
    app.add_reviewer("carol", false).await;
    app
}

/// The one-time link shown on the reviewers page.
async fn shown_link(response: rocket::local::asynchronous::LocalResponse<'_>) -> String {
    assert_eq!(response.status(), Status::Ok);
    let page = response.into_string().await.unwrap();
    let start = page.find("id=\"one-time-link\"").expect("a link is shown");
    let value = &page[start..];
    let value = &value[value.find("value=\"").unwrap() + 7..];
    // As a browser reads the attribute: Tera escapes the slashes.
    value[..value.find('"').unwrap()].replace("&#x2F;", "/")
}

/// Opens a password link in a fresh browser and sets `password`; returns the status.
async fn set_password(app: &TestApp, link: &str, password: &str) -> Status {
    let path = link.trim_start_matches("http://127.0.0.1:8000");
    let page = app.client.get(path.to_owned()).dispatch().await;
    if page.status() != Status::Ok {
        return page.status();
    }
    let csrf = form_token(&page);
    app.client
        .post(path.to_owned())
        .header(ContentType::Form)
        .private_cookie(Cookie::new("td_csrf", csrf.clone()))
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("password", password),
            ("password_again", password),
        ]))
        .dispatch()
        .await
        .status()
}

const NEW_PASSWORD: &str = "a brand new passphrase";

#[rocket::async_test]
async fn an_invited_reviewer_sets_their_own_password_once() {
    let app = app().await;
    let alice = app.sign_in("alice").await;
    let link = shown_link(
        app.staff_post(&alice, "/review/reviewers".into(), &[("name", "bob")])
            .await,
    )
    .await;
    assert!(link.contains("/review/password/"), "{link}");
    let (status, _) = app.try_sign_in("bob", "", None).await;
    assert_ne!(
        status,
        Status::SeeOther,
        "no password works before the link is used"
    );

    assert_eq!(
        set_password(&app, &link, NEW_PASSWORD).await,
        Status::SeeOther
    );
    let (status, session) = app.try_sign_in("bob", NEW_PASSWORD, None).await;
    assert_eq!(status, Status::SeeOther);
    assert!(session.is_some());
    assert_eq!(
        set_password(&app, &link, "someone else's choice").await,
        Status::NotFound,
        "the link works once"
    );
}

#[rocket::async_test]
async fn a_reset_ends_the_old_password_and_sessions() {
    let app = app().await;
    let alice = app.sign_in("alice").await;
    let carol = app.sign_in("carol").await;
    let link = shown_link(
        app.staff_post(&alice, "/review/reviewers/carol/reset".into(), &[])
            .await,
    )
    .await;
    assert_eq!(
        app.staff_get(&carol, "/review".into()).await.status(),
        Status::SeeOther,
        "carol's session ended (to the sign-in page)"
    );
    let (status, _) = app.try_sign_in("carol", PASSWORD, None).await;
    assert_eq!(
        status,
        Status::Unauthorized,
        "the old password no longer works"
    );
    assert_eq!(
        set_password(&app, &link, NEW_PASSWORD).await,
        Status::SeeOther
    );
    let (status, _) = app.try_sign_in("carol", NEW_PASSWORD, None).await;
    assert_eq!(status, Status::SeeOther);
}

#[rocket::async_test]
async fn disabled_reviewers_cannot_sign_in_until_enabled() {
    let app = app().await;
    let alice = app.sign_in("alice").await;
    let disabled = app
        .staff_post(&alice, "/review/reviewers/carol/disable".into(), &[])
        .await;
    assert_eq!(disabled.status(), Status::SeeOther);
    assert_eq!(
        app.try_sign_in("carol", PASSWORD, None).await.0,
        Status::Unauthorized
    );
    app.staff_post(&alice, "/review/reviewers/carol/enable".into(), &[])
        .await;
    assert_eq!(
        app.try_sign_in("carol", PASSWORD, None).await.0,
        Status::SeeOther
    );

    let own = app
        .staff_post(&alice, "/review/reviewers/alice/disable".into(), &[])
        .await;
    assert_eq!(own.status(), Status::SeeOther);
    assert_eq!(
        app.try_sign_in("alice", PASSWORD, None).await.0,
        Status::SeeOther,
        "an admin cannot lock themselves out"
    );
}

#[rocket::async_test]
async fn only_admins_manage_reviewers() {
    let app = app().await;
    let carol = app.sign_in("carol").await;
    assert_eq!(
        app.staff_get(&carol, "/review/reviewers".into())
            .await
            .status(),
        Status::Forbidden
    );
    for path in [
        "/review/reviewers/alice/disable",
        "/review/reviewers/alice/reset",
    ] {
        assert_eq!(
            app.staff_post(&carol, path.into(), &[]).await.status(),
            Status::Forbidden,
            "{path}"
        );
    }
    let invited = app
        .staff_post(&carol, "/review/reviewers".into(), &[("name", "mallory")])
        .await;
    assert_eq!(invited.status(), Status::Forbidden);
    assert_eq!(
        app.try_sign_in("alice", PASSWORD, None).await.0,
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn a_reviewer_changes_their_own_password_knowing_the_current_one() {
    let app = app().await;
    let carol = app.sign_in("carol").await;
    let wrong = app
        .staff_post(
            &carol,
            "/review/account/password".into(),
            &[
                ("current", "not my password at all"),
                ("password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status(), Status::UnprocessableEntity);
    assert!(wrong
        .into_string()
        .await
        .unwrap()
        .contains("current password is not right"));

    let changed = app
        .staff_post(
            &carol,
            "/review/account/password".into(),
            &[
                ("current", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_again", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status(), Status::SeeOther);
    assert_eq!(location(&changed), "/review/login");
    assert_eq!(
        app.staff_get(&carol, "/review".into()).await.status(),
        Status::SeeOther,
        "the old session ended"
    );
    assert_eq!(
        app.try_sign_in("carol", PASSWORD, None).await.0,
        Status::Unauthorized
    );
    assert_eq!(
        app.try_sign_in("carol", NEW_PASSWORD, None).await.0,
        Status::SeeOther
    );
}
