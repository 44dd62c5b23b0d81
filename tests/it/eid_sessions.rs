//! The e-ID sessions as a requester's browser lives them, against the real binary: the
//! same-device return to the browser that started the check, a new check that takes the old
//! one's place, and photos sent instead.

use entities::enums::DocumentKind;
use entities::{audit_event, document, eid_proof, eid_session};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::common::server::{Server, WebClient};
use crate::common::{camera_photo, files_under, Multipart};
use crate::eid::wallet::Wallet;
use crate::eid::Tamper;
use crate::eid_flow::{eid_desk, error_of, links_on, state_of, submit_eid_request};

/// The `Location` a [`WebClient`] answer ends with.
fn location_in(answer: &str) -> &str {
    answer
        .rsplit_once("\nLocation: ")
        .map(|(_, location)| location.trim())
        .unwrap_or_else(|| panic!("no Location in {answer}"))
}

/// The form's e-ID request for example.com, as the page's form sends it.
fn eid_form(csrf_token: &str) -> Multipart {
    Multipart::new()
        .text("csrf_token", csrf_token)
        .text("domain", "example.com")
        .text("full_name", "Anna Muster")
        .text("email", "anna@example.org")
        .text("relation", "holder")
        .text("proof", "eid")
        .text("consent", "yes")
}

/// Submits the form in `browser`; returns the tracking page's address (`/track/<token>`).
fn submit_in(browser: &mut WebClient, server: &Server) -> String {
    let (_, form) = browser.get(server, "/");
    let token = WebClient::form_token(&form);
    let (status, answer) = browser.post_multipart(server, "/requests", eid_form(&token));
    assert_eq!(status, 303, "{answer}");
    let tracking = location_in(&answer);
    tracking.trim_end_matches("?new=true").to_owned()
}

async fn accepted_proofs(server: &Server) -> u64 {
    let db = server.database().await;
    eid_proof::Entity::find()
        .filter(eid_proof::Column::AcceptedAt.is_not_null())
        .count(&db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_browser_that_started_the_check_brings_the_answer_home_once() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let mut browser = WebClient::default();
    let tracking = submit_in(&mut browser, server);
    let token = tracking.trim_start_matches("/track/").to_owned();
    let cookie = browser
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("td_eid_"))
        .expect("submitting the form marks this browser as the one that started the check");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/eid/return"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(
        !cookie.contains(&token),
        "the cookie is private (encrypted)"
    );

    let (_, page) = browser.get(server, &tracking);
    let (link, _) = links_on(&page);
    assert!(link.contains("%2Frequest%2Fsame-device"), "{link}");
    let answered = desk
        .wallet
        .answer_link(&link, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    let json: Value = serde_json::from_str(&answered.reply.body).unwrap();
    let redirect = json["redirect_uri"].as_str().expect("a redirect_uri");
    let path = redirect.trim_start_matches(&server.base).to_owned();
    assert_eq!(
        state_of(server, &token).await,
        "awaiting_eid",
        "the wallet's answer alone does not count on the same device"
    );

    // A code the desk never handed out, or none at all, in the right browser: nothing.
    for wrong in [
        format!("/eid/return?response_code={}", "A".repeat(43)),
        "/eid/return?response_code=short".to_owned(),
        "/eid/return".to_owned(),
    ] {
        let (status, page) = browser.get(server, &wrong);
        assert_eq!(status, 403, "{wrong}: {page}");
        assert!(page.contains("This browser did not start this e-ID check"));
    }
    assert_eq!(state_of(server, &token).await, "awaiting_eid");
    assert_eq!(accepted_proofs(server).await, 0);

    let mut kept_cookie = browser.clone();
    let (status, answer) = browser.get(server, &path);
    assert_eq!(status, 303, "{answer}");
    assert_eq!(location_in(&answer), tracking, "back to the tracking page");
    assert_eq!(state_of(server, &token).await, "submitted");
    assert_eq!(accepted_proofs(server).await, 1);

    // The code is used up: again in this browser (its cookie is gone), or in a copy of the
    // browser that still holds the cookie, it is refused and changes nothing.
    let (status, _) = browser.get(server, &path);
    assert_eq!(status, 403, "the same browser, again");
    let (status, answer) = kept_cookie.get(server, &path);
    assert_eq!(status, 403, "the cookie kept, again: {answer}");
    assert_eq!(accepted_proofs(server).await, 1);
    let db = server.database().await;
    let accepted = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("eid_accepted"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(accepted, 1, "accepted once");
    let replay = Wallet::post(&answered.request.response_uri, &answered.answer).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
}

#[tokio::test]
async fn a_new_check_takes_the_place_of_the_old_one() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let (id, token) = submit_eid_request(server);
    let mut browser = WebClient::default();
    let tracking = format!("/track/{token}");
    let (_, page) = browser.get(server, &tracking);
    let (_, old_uri) = links_on(&page);
    let old = desk.wallet.fetch_request(&old_uri).await.unwrap();

    let csrf = WebClient::form_token(&page);
    let start = format!("{tracking}/eid/session");
    let (status, answer) = browser.post_form(server, &start, &[("csrf_token", &csrf)]);
    assert_eq!(status, 303, "{answer}");
    assert_eq!(location_in(&answer), format!("{tracking}#eid"));
    assert!(
        browser
            .last_set_cookies
            .iter()
            .any(|c| c.starts_with("td_eid_")),
        "the new check is this browser's"
    );
    let (_, page) = browser.get(server, &tracking);
    let (_, new_uri) = links_on(&page);
    assert_ne!(new_uri, old_uri, "the page shows the new check");

    let refused = desk.wallet.fetch_request(&old_uri).await.unwrap_err();
    assert!(refused.0.contains("400"), "{}", refused.0);
    let late = desk.wallet.present(&old, Tamper::NoStatusReference);
    let reply = Wallet::post(&old.response_uri, &late).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "invalid_request");
    assert!(reply.body.contains("closed"), "{}", reply.body);
    assert_eq!(state_of(server, &token).await, "awaiting_eid");
    let db = server.database().await;
    let proofs = eid_proof::Entity::find()
        .filter(eid_proof::Column::RequestId.eq(id))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(proofs, 0, "the old check proved nothing");

    let answered = desk
        .wallet
        .answer(&new_uri, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    assert_eq!(state_of(server, &token).await, "submitted");
    // Without scripts, a reload shows the request moved on.
    let (_, page) = browser.get(server, &tracking);
    assert!(page.contains("waiting for review"), "{page}");
    assert!(!page.contains("data-eid-poll"), "no e-ID panel left");
}

#[tokio::test]
async fn photos_instead_end_the_check_and_go_the_document_way() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let (id, token) = submit_eid_request(server);
    let mut browser = WebClient::default();
    let tracking = format!("/track/{token}");
    let (_, page) = browser.get(server, &tracking);
    let (_, request_uri) = links_on(&page);
    let request = desk.wallet.fetch_request(&request_uri).await.unwrap();

    let csrf = WebClient::form_token(&page);
    let photos = Multipart::new()
        .text("csrf_token", &csrf)
        .text("id_document_type", "passport")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo());
    let (status, answer) =
        browser.post_multipart(server, &format!("{tracking}/eid/photos"), photos);
    assert_eq!(status, 303, "{answer}");
    assert_eq!(location_in(&answer), tracking);
    assert_eq!(state_of(server, &token).await, "submitted");

    let db = server.database().await;
    let kinds: Vec<DocumentKind> = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, [DocumentKind::IdFront], "the photo, stored");
    assert!(!files_under(&server.uploads_dir()).is_empty());
    let sessions = eid_session::Entity::find()
        .filter(eid_session::Column::RequestId.eq(id))
        .all(&db)
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    assert!(
        sessions.iter().all(|s| s.sealed_key.is_none()),
        "no session key is left"
    );
    let (_, page) = browser.get(server, &tracking);
    assert!(!page.contains("swiyu-verify://"), "no check on the page");

    let late = desk.wallet.present(&request, Tamper::NoStatusReference);
    let reply = Wallet::post(&request.response_uri, &late).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "invalid_request");
    assert_eq!(accepted_proofs(server).await, 0);
    assert!(desk.wallet.fetch_request(&request_uri).await.is_err());
    let (status, _) = browser.post_form(
        server,
        &format!("{tracking}/eid/session"),
        &[("csrf_token", &csrf)],
    );
    assert_eq!(
        status, 404,
        "no new check for a request that waits for none"
    );
    assert_eq!(state_of(server, &token).await, "submitted");

    server.add_reviewer("alice", crate::eid_flow::PASSWORD, false);
    let mut reviewer = WebClient::default();
    reviewer.sign_in(server, "alice", crate::eid_flow::PASSWORD);
    let (status, review) = reviewer.get(server, &format!("/review/requests/{id}"));
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("/documents/"), "the photo is reviewed");
    assert!(!review.contains("Identity proven with the e-ID"));
}
