//! Security staff review and decide requests; documents are destroyed on decision;
//! approved owners get their transfer code.

use crate::common::registry::{both_ways, TestRegistry, Way};
use crate::common::*;
use entities::{audit_event, decision, request, transfer_code};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::platform::crypto::TrackingToken;
use transfer_desk::registry::codes::TransferCode;
use transfer_desk::web::links::PageLinks;
use transfer_desk::workflow::decide::{self, ApprovalInput};
use transfer_desk::workflow::RequestState;

#[rocket::async_test]
async fn whole_story_submit_claim_view_approve_and_read_the_code() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;

    let queue = app.staff_page(&alice, "/review").await;
    assert!(queue.contains("example.com") && queue.contains("h left"));

    let claimed = app
        .staff_post(&alice, "/review/claim-next".into(), &[])
        .await;
    assert_eq!(claimed.status(), Status::SeeOther);
    assert_eq!(location(&claimed), review_uri(id, ""));

    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("Anna Muster") && page.contains("match"));
    assert!(
        page.contains("approvals 0 of 1"),
        "a request without signals needs one approval"
    );

    let doc = app.live_documents(id).await.remove(0);
    let view = app
        .staff_get(&alice, review_uri(id, &format!("/documents/{}", doc.id)))
        .await;
    assert_eq!(view.status(), Status::Ok);
    assert_eq!(view.headers().get_one("Content-Type"), Some("image/jpeg"));
    assert_eq!(view.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(
        view.headers().get_one("Content-Security-Policy"),
        Some("default-src 'none'")
    );
    assert_eq!(
        view.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    let shown = view.into_bytes().await.unwrap();
    assert!(image::load_from_memory(&shown).is_ok());

    let approved = app
        .staff_post(&alice, review_uri(id, "/approve"), &[])
        .await;
    assert_eq!(approved.status(), Status::SeeOther);

    // The requester reads the code with the token, and only with it.
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    let code = status["transfer_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 26);
    let page = app.page(format!("/track/{token}")).await;
    assert!(page.contains(&code));

    // Destroyed: keys gone in the decision, files gone after commit, URL now 404.
    assert!(app.live_documents(id).await.is_empty());
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    let gone = app
        .staff_get(&alice, review_uri(id, &format!("/documents/{}", doc.id)))
        .await;
    assert_eq!(gone.status(), Status::NotFound);

    // The code at rest: a salted hash and a copy only the token opens.
    let stored = transfer_code::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let opened = TransferCode::open_with(
        &TrackingToken::parse(&token).unwrap(),
        id,
        stored.sealed_code.as_ref().unwrap(),
    )
    .unwrap();
    assert_eq!(opened.expose(), code);
    assert!(opened.matches(&stored.salt, &stored.code_hash));
    assert!(TransferCode::open_with(
        &TrackingToken::generate().unwrap(),
        id,
        stored.sealed_code.as_ref().unwrap()
    )
    .is_err());
    assert!(!stored
        .sealed_code
        .unwrap()
        .windows(code.len())
        .any(|w| w == code.as_bytes()));
    assert_eq!((stored.expires_at - stored.issued_at).num_days(), 14);
    assert_eq!(stored.means, "tracking link");

    // Evidence and audit, without the code or the token.
    let decisions = decision::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        (decisions[0].outcome, decisions[0].reviewer_name.as_str()),
        (RequestState::Approved, "alice")
    );
    assert_eq!(decisions[0].document_kinds, "id_front");
    let audit = audit_event::Entity::find().all(app.db()).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "login",
        "claim",
        "key_use",
        "document_view",
        "decision",
        "shred",
        "code_issued",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    for event in &audit {
        let text = format!("{event:?}");
        assert!(!text.contains(&code) && !text.contains(&token));
    }
    let logs = captured_logs();
    assert!(!logs.contains(PASSWORD), "no password in the logs");
    assert!(!logs.contains(&alice.session), "no session id in the logs");
    assert!(
        !logs.contains(&code) && !logs.contains(&token),
        "no code or token in the logs"
    );
}

#[rocket::async_test]
async fn a_request_with_signals_needs_two_different_reviewers() {
    let app = TestApp::with_staff(|_| {}).await;
    // No camera data: a signal fires, so four eyes are required.
    let (id, token) = app
        .submit_by_api(valid_submission(
            "example.com",
            &jpeg_photo(1300, 900, None),
        ))
        .await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;

    let first = app.claim_and_approve(&alice, id).await;
    assert_eq!(first.status(), Status::SeeOther);
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");

    // Alice cannot give the second approval herself.
    assert_eq!(
        app.staff_post(&alice, "/review/claim-next".into(), &[])
            .await
            .headers()
            .get_one("Location"),
        Some("/review")
    );
    let again = app.claim_and_approve(&alice, id).await;
    assert_eq!(again.status(), Status::Conflict);
    assert!(again
        .into_string()
        .await
        .unwrap()
        .contains("already approved"));
    app.staff_post(&alice, review_uri(id, "/release"), &[])
        .await;

    let second = app.claim_and_approve(&bob, id).await;
    assert_eq!(second.status(), Status::SeeOther);
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    assert!(status["transfer_code"].is_string());
}

#[rocket::async_test]
async fn a_rejection_reason_reaches_the_requester_and_documents_are_destroyed() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let bob = app.sign_in("bob").await;
    app.staff_post(&bob, review_uri(id, "/claim"), &[]).await;

    let empty = app
        .staff_post(&bob, review_uri(id, "/reject"), &[("reason", " ")])
        .await;
    assert_eq!(
        empty.status(),
        Status::SeeOther,
        "sent back to give a reason"
    );
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");

    let reason = "The photo appears to have been edited.";
    let rejected = app
        .staff_post(
            &bob,
            review_uri(id, "/reject"),
            &[
                ("template", "reason-edited"),
                ("reason", "Please send an unedited photo."),
            ],
        )
        .await;
    assert_eq!(rejected.status(), Status::SeeOther);
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "rejected");
    assert_eq!(
        status["reason"],
        format!("{reason} Please send an unedited photo.")
    );
    assert_eq!(status["reason_key"], "reason-edited");
    assert!(status["transfer_code"].is_null());
    let page = app.page(format!("/track/{token}")).await;
    assert!(page.contains("Please send an unedited photo."));
    assert!(app.live_documents(id).await.is_empty());
    assert!(app.stored_files().is_empty());
}

#[rocket::async_test]
async fn a_reviewer_asks_for_a_new_document_and_the_requester_sends_it() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let old = app.live_documents(id).await.remove(0);
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    let asked = app
        .staff_post(
            &alice,
            review_uri(id, "/request-document"),
            &[
                ("kind", "id_front"),
                (
                    "note",
                    "The photo is blurred; please retake it in daylight.",
                ),
            ],
        )
        .await;
    assert_eq!(asked.status(), Status::SeeOther);

    let page = app.page(format!("/track/{token}")).await;
    assert!(
        page.contains("please retake it in daylight") && page.contains("identity document (front)")
    );
    assert_eq!(
        app.status_by_api(id, &token).await["requested_document"],
        "id_front"
    );

    app.provide_document(&token, &camera_photo()).await;
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");

    let live = app.live_documents(id).await;
    assert_eq!(live.len(), 1);
    assert_ne!(
        live[0].id, old.id,
        "the replaced document is shredded at once"
    );
    let files = app.stored_files();
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with(&live[0].storage_name));
    let old_view = app
        .staff_get(&alice, review_uri(id, &format!("/documents/{}", old.id)))
        .await;
    assert_eq!(old_view.status(), Status::NotFound);
}

#[rocket::async_test]
async fn only_the_claim_holder_decides_and_an_admin_can_release() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, _) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.staff_post(&bob, review_uri(id, "/claim"), &[]).await;

    let taken = app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    assert_eq!(taken.status(), Status::Conflict);
    assert!(taken
        .into_string()
        .await
        .unwrap()
        .contains("This request is being reviewed by bob"));
    let not_mine = app
        .staff_post(&alice, review_uri(id, "/approve"), &[])
        .await;
    assert_eq!(not_mine.status(), Status::Conflict);

    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("held by bob"));
    // alice is an admin: she may release bob's claim and take it.
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/release"), &[])
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/claim"), &[])
            .await
            .status(),
        Status::SeeOther
    );
    // bob is not an admin: he cannot release alice's.
    assert_eq!(
        app.staff_post(&bob, review_uri(id, "/release"), &[])
            .await
            .status(),
        Status::Conflict
    );
}

#[rocket::async_test]
async fn concurrent_decisions_make_exactly_one_transition() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, _) = app.submit_example().await;
    let alice = transfer_desk::accounts::find_by_name(app.db(), "alice")
        .await
        .unwrap()
        .unwrap();
    let services = app.services();
    let now = chrono::Utc::now();
    transfer_desk::workflow::queue::claim(
        app.db(),
        &services.settings,
        transfer_desk::workflow::RequestId(id),
        &alice,
        now,
    )
    .await
    .unwrap();
    let plain = ApprovalInput::default();
    let links = PageLinks(String::new());
    let (approve, reject) = tokio::join!(
        decide::approve(
            services,
            transfer_desk::workflow::RequestId(id),
            &alice,
            &plain,
            &links,
            now
        ),
        decide::reject(
            services,
            transfer_desk::workflow::RequestId(id),
            &alice,
            None,
            "duplicate",
            now
        ),
    );
    assert!(
        approve.is_ok() != reject.is_ok(),
        "exactly one wins: {approve:?} {reject:?}"
    );
    let decisions = decision::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(decisions.len(), 1);

    let (second, _) = app.submit_example().await;
    let second = transfer_desk::workflow::RequestId(second);
    transfer_desk::workflow::queue::claim(app.db(), &services.settings, second, &alice, now)
        .await
        .unwrap();
    // The first request's code is live for the same domain: the approver confirms that.
    let confirmed = ApprovalInput {
        contested_reason: Some("the first code was lost".into()),
        ..Default::default()
    };
    let (one, two) = tokio::join!(
        decide::approve(services, second, &alice, &confirmed, &links, now),
        decide::approve(services, second, &alice, &confirmed, &links, now),
    );
    assert!(one.is_ok() != two.is_ok(), "{one:?} {two:?}");
    let decided_second = decision::Entity::find()
        .filter(decision::Column::RequestId.eq(second))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(decided_second.len(), 1, "one decision record");
    let states: Vec<RequestState> = request::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert!(!states.contains(&RequestState::Submitted), "{states:?}");
}

#[rocket::async_test]
async fn a_failing_registry_command_stops_the_approval_and_says_why() {
    let app = TestApp::start_for_staff(|s| {
        s.registry_command = Some(
            "read version; read action; read key domain; echo \"registry is down for $domain\" >&2; exit 1"
                .into(),
        );
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", true).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let refused = app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("registry is down for example.com"));
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");
    assert_eq!(app.live_documents(id).await.len(), 1);
    assert!(transfer_code::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
}

both_ways!(an_approved_code_is_the_one_the_registry_holds);

/// The registry is handed the code the requester reads, once, by either way.
async fn an_approved_code_is_the_one_the_registry_holds(way: Way) {
    let registry = TestRegistry::start(way, &[]).await;
    let app = TestApp::with_staff(|s| registry.configure(s)).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/approve"), &[])
            .await
            .status(),
        Status::SeeOther
    );
    let code = app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(registry.code(), Some(code));
    assert_eq!(registry.changes_sent(), 1);
}

#[rocket::async_test]
async fn the_admin_sees_and_filters_the_audit_trail_and_reviewers_do_not() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, _) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.staff_post(&bob, review_uri(id, "/claim"), &[]).await;
    let page = app
        .staff_get(&alice, "/review/audit?actor=bob&action=claim".into())
        .await;
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().await.unwrap();
    assert!(html.contains("claim") && html.contains("bob"));
    assert!(!html.contains(">login<"), "filtered to bob's claims");
    assert_eq!(
        app.staff_get(&bob, "/review/audit".into()).await.status(),
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn an_audit_filter_by_something_that_is_no_request_id_shows_nothing_and_says_so() {
    let app = TestApp::with_staff(|_| {}).await;
    let alice = app.sign_in("alice").await;
    let page = app
        .staff_get(&alice, "/review/audit?request=not-an-id".into())
        .await;
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().await.unwrap();
    assert!(html.contains("is not a request id"), "{html}");
    assert!(!html.contains(">login<"), "no event is shown: {html}");
    assert!(html.contains("value=\"not-an-id\""), "what was typed stays");
}

#[rocket::async_test]
async fn a_forwarded_header_is_ignored_without_a_trusted_proxy() {
    let app = TestApp::with_staff(|_| {}).await;
    let (status, _) = app
        .try_sign_in("alice", PASSWORD, Some("198.51.100.7"))
        .await;
    assert_eq!(status, Status::SeeOther);
    let login = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("login"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(login.detail.as_deref(), Some("198.51.100.7"));
}

#[rocket::async_test]
async fn the_queue_says_how_much_is_waiting_and_how_late() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let app = TestApp::with_staff(|_| {}).await;
    let (late, _) = app.submit_example().await;
    app.submit_example().await;
    let found = request::Entity::find_by_id(late)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let created_at = found.created_at - chrono::Duration::hours(130);
    let mut aged = found.into_active_model();
    aged.created_at = Set(created_at);
    aged.update(app.db()).await.unwrap();

    let alice = app.sign_in("alice").await;
    let queue = app.staff_page(&alice, "/review").await;
    assert!(queue.contains("2 waiting"), "{queue}");
    assert!(queue.contains("oldest 130 h"));
    assert!(queue.contains("1 overdue"));
    assert!(queue.contains("Keyboard shortcuts"));
}

#[rocket::async_test]
async fn a_company_signatory_is_checked_in_the_commercial_register() {
    let app = TestApp::with_staff(|_| {}).await;
    let signatory = |uid: &str| {
        Multipart::new()
            .text("domain", "example.com")
            .text("full_name", "Sandra Keller")
            .text("email", "s.keller@example.org")
            .text("relation", "signatory")
            .text("company_uid", uid)
            .text("consent", "yes")
            .file("id_front", "front.jpg", "image/jpeg", &camera_photo())
    };
    let wrong = app
        .post_multipart("/api/v1/requests", signatory("CHE-123.456.789"))
        .await;
    assert_eq!(wrong.status(), Status::UnprocessableEntity);
    let answer: serde_json::Value = wrong.into_json().await.unwrap();
    assert!(answer["errors"]["company_uid"]
        .as_str()
        .unwrap()
        .contains("not a valid Swiss UID"));

    // No authorisation letter: the register shows who signs for the company.
    let (id, token) = app.submit_by_api(signatory("che 123 456 788")).await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("CHE-123.456.788") && page.contains("zefix.ch"));

    let unconfirmed = app
        .staff_post(&alice, review_uri(id, "/approve"), &[])
        .await;
    assert_eq!(unconfirmed.status(), Status::SeeOther);
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");
    app.staff_post(
        &alice,
        review_uri(id, "/approve"),
        &[("signatory_confirmed", "true")],
    )
    .await;
    assert_eq!(app.status_by_api(id, &token).await["status"], "approved");
    let audit = app.audit_details("approval").await;
    assert!(
        audit.iter().any(
            |d| d.contains("signatory of CHE-123.456.788 confirmed in the commercial register")
        ),
        "{audit:?}"
    );
}

#[rocket::async_test]
async fn a_long_queue_comes_a_page_at_a_time_oldest_first_with_its_filters_kept() {
    use transfer_desk::workflow::queue::QUEUE_PAGE;
    let app = TestApp::with_staff(|_| {}).await;
    let photo = camera_photo();
    let mut ids = Vec::new();
    for _ in 0..=QUEUE_PAGE {
        ids.push(
            app.submit_by_api(valid_submission("example.com", &photo))
                .await
                .0,
        );
    }
    let alice = app.sign_in("alice").await;
    let rows = |page: &str| page.matches("<a href=\"/review/requests/").count();

    let first = app.staff_page(&alice, "/review?domain=example").await;
    assert_eq!(rows(&first), QUEUE_PAGE as usize);
    assert!(first.contains(&ids[0].to_string()), "the oldest first");
    assert!(!first.contains(&ids[QUEUE_PAGE as usize].to_string()));
    assert!(
        first.contains(&format!("{} waiting", QUEUE_PAGE + 1)),
        "{first}"
    );
    let next = "/review?state=&domain=example&page=1";
    assert!(first.replace("&amp;", "&").contains(next), "{first}");
    assert!(!first.contains("Previous page"));

    let second = app.staff_page(&alice, next).await;
    assert_eq!(rows(&second), 1);
    assert!(second.contains(&ids[QUEUE_PAGE as usize].to_string()));
    assert!(second.contains("Previous page") && !second.contains("Next page"));
}
