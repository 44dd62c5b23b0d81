//! The host's incident notice: an admin posts it, everyone reads it on the public pages,
//! and it ends when the admin says so.

use crate::common::*;
use rocket::http::Status;

#[rocket::async_test]
async fn an_admin_posts_a_notice_that_every_public_page_shows_until_it_ends() {
    let app = TestApp::with_staff(|_| {}).await;
    app.add_reviewer("carol", false).await;
    let alice = app.sign_in("alice").await;
    let posted = app
        .staff_post(
            &alice,
            "/review/notices".into(),
            &[
                ("severity", "outage"),
                ("hours", "48"),
                ("title[en]", "Our mail servers are down"),
                (
                    "text[en]",
                    "Use another email address in your request. <b>Not bold</b>.",
                ),
                ("title[fr]", "Nos serveurs de messagerie sont en panne"),
                ("text[fr]", "Indiquez une autre adresse e-mail."),
            ],
        )
        .await;
    assert_eq!(posted.status(), Status::SeeOther);

    let (_, token) = app.submit_example().await;
    for path in [
        "/".to_owned(),
        format!("/track/{token}"),
        "/status".to_owned(),
    ] {
        let page = app.client.get(path.clone()).dispatch().await;
        let html = page.into_string().await.unwrap();
        assert!(html.contains("Our mail servers are down"), "{path}");
        assert!(
            html.contains("&lt;b&gt;Not bold&lt;&#x2F;b&gt;"),
            "escaped on {path}"
        );
    }
    let json: serde_json::Value = app
        .client
        .get("/status.json")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(json[0]["severity"], "outage");
    assert_eq!(
        json[0]["texts"]["fr"]["title"],
        "Nos serveurs de messagerie sont en panne"
    );

    // Only admins post or end notices.
    let carol = app.sign_in("carol").await;
    let id = json[0]["id"].as_str().unwrap().to_owned();
    let refused = app
        .staff_post(&carol, format!("/review/notices/{id}/end"), &[])
        .await;
    assert_eq!(refused.status(), Status::Forbidden);

    let ended = app
        .staff_post(&alice, format!("/review/notices/{id}/end"), &[])
        .await;
    assert_eq!(ended.status(), Status::SeeOther);
    let html = app.page("/").await;
    assert!(!html.contains("Our mail servers are down"));
    let json: serde_json::Value = app
        .client
        .get("/status.json")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!([]));
}

#[rocket::async_test]
async fn a_notice_without_english_is_refused_and_nothing_shows() {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("alice", true).await;
    let alice = app.sign_in("alice").await;
    let refused = app
        .staff_post(
            &alice,
            "/review/notices".into(),
            &[
                ("severity", "warning"),
                ("hours", "2"),
                ("title[de]", "Störung"),
                ("text[de]", "Bitte haben Sie Geduld."),
            ],
        )
        .await;
    assert_eq!(refused.status(), Status::SeeOther);
    let flash = refused
        .cookies()
        .get("_flash")
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    assert!(
        flash.contains("Please give at least an English title and text."),
        "{flash}"
    );
    let page = app.staff_page(&alice, "/review/notices").await;
    assert!(page.contains("No notice is live."));
}
