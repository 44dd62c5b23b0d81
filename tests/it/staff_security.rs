//! Attacks on the staff side, session limits, throttling, the setup link, and the sweeper.

use crate::common::*;
use chrono::{Duration, Utc};
use entities::{decision, deletion, document, login_throttle, request, session, transfer_code};
use rocket::http::{ContentType, Cookie, Header, Status};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::workflow::sweep::sweep;
use transfer_desk::workflow::RequestState;

/// Every staff URL, with the method it takes.
fn staff_routes(id: uuid::Uuid, doc: uuid::Uuid) -> Vec<(&'static str, String)> {
    let r = format!("/review/requests/{id}");
    vec![
        ("GET", "/review".into()),
        ("GET", "/review/audit".into()),
        ("GET", r.clone()),
        ("GET", format!("{r}/documents/{doc}")),
        ("POST", "/review/claim-next".into()),
        ("POST", format!("{r}/claim")),
        ("POST", format!("{r}/release")),
        ("POST", format!("{r}/approve")),
        ("POST", format!("{r}/reject")),
        ("POST", format!("{r}/request-document")),
        ("POST", "/review/logout".into()),
    ]
}

/// Sends every staff route with `session` (if any) and the CSRF token `csrf`; returns the
/// statuses. Nothing may succeed.
async fn assert_all_refused(
    app: &TestApp,
    id: uuid::Uuid,
    doc: uuid::Uuid,
    session: Option<&str>,
    csrf: &str,
) {
    for (method, uri) in staff_routes(id, doc) {
        let mut request = if method == "GET" {
            app.client.get(uri.clone())
        } else {
            app.client.post(uri.clone())
        };
        if let Some(session) = session {
            request = request.private_cookie(Cookie::new("td_session", session.to_owned()));
        }
        if method == "POST" {
            request = request.header(ContentType::Form).body(form_body(&[
                ("csrf_token", csrf),
                ("reason", "x"),
                ("kind", "id_front"),
                ("note", "x"),
            ]));
        }
        let response = request.dispatch().await;
        let status = response.status();
        let refused = status == Status::Unauthorized
            || status == Status::Forbidden
            || (status == Status::SeeOther
                && response.headers().get_one("Location") == Some("/review/login"));
        assert!(refused, "{method} {uri} answered {status}");
    }
    assert_eq!(
        request::Entity::find_by_id(id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .state,
        RequestState::Submitted,
        "nothing changed"
    );
    assert_eq!(app.stored_files().len(), 1);
}

async fn one_request(app: &TestApp) -> (uuid::Uuid, uuid::Uuid) {
    let (id, _) = app.submit_example().await;
    let doc = document::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    (id, doc)
}

#[rocket::async_test]
async fn every_staff_route_refuses_without_a_live_session() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, doc) = one_request(&app).await;
    // No session, and a forged one.
    assert_all_refused(&app, id, doc, None, "x").await;
    assert_all_refused(&app, id, doc, Some(&"A".repeat(43)), "x").await;

    // After logout.
    let alice = app.sign_in("alice").await;
    assert_eq!(
        app.staff_post(&alice, "/review/logout".into(), &[])
            .await
            .status(),
        Status::SeeOther
    );
    assert_all_refused(&app, id, doc, Some(&alice.session), &alice.csrf).await;

    // A disabled account's session.
    let bob = app.sign_in("bob").await;
    transfer_desk::accounts::disable_reviewer(app.db(), "bob")
        .await
        .unwrap();
    assert_all_refused(&app, id, doc, Some(&bob.session), &bob.csrf).await;
    let (status, _) = app.try_sign_in("bob", PASSWORD, None).await;
    assert_eq!(
        status,
        Status::Unauthorized,
        "a disabled account cannot sign in"
    );

    // After the absolute timeout, and after the idle timeout.
    app.add_reviewer("carol", false).await;
    let carol = app.sign_in("carol").await;
    session::Entity::update_many()
        .col_expr(
            session::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::hours(13)),
        )
        .exec(app.db())
        .await
        .unwrap();
    assert_all_refused(&app, id, doc, Some(&carol.session), &carol.csrf).await;
    let carol = app.sign_in("carol").await;
    session::Entity::update_many()
        .col_expr(
            session::Column::LastSeenAt,
            Expr::value(Utc::now() - Duration::minutes(31)),
        )
        .exec(app.db())
        .await
        .unwrap();
    assert_all_refused(&app, id, doc, Some(&carol.session), &carol.csrf).await;

    // After a password change.
    let carol = app.sign_in("carol").await;
    transfer_desk::accounts::change_password(app.db(), "carol", "another long passphrase")
        .await
        .unwrap();
    assert_all_refused(&app, id, doc, Some(&carol.session), &carol.csrf).await;
}

#[rocket::async_test]
async fn csrf_less_and_cross_origin_posts_are_forbidden() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, doc) = one_request(&app).await;
    let alice = app.sign_in("alice").await;
    for (_, uri) in staff_routes(id, doc)
        .into_iter()
        .filter(|(method, _)| *method == "POST")
    {
        let forged = app
            .staff_post(
                &Staff {
                    csrf: "forged".into(),
                    ..alice.clone()
                },
                uri.clone(),
                &[],
            )
            .await;
        assert_eq!(
            forged.status(),
            Status::Forbidden,
            "{uri} without the CSRF token"
        );
        let cross = app
            .client
            .post(uri.clone())
            .header(ContentType::Form)
            .header(Header::new("Origin", "https://evil.example"))
            .header(Header::new("Host", "localhost"))
            .private_cookie(Cookie::new("td_session", alice.session.clone()))
            .body(form_body(&[("csrf_token", &alice.csrf)]))
            .dispatch()
            .await;
        assert_eq!(
            cross.status(),
            Status::Forbidden,
            "{uri} from another origin"
        );
    }
    assert!(
        app.staff_get(&alice, "/review".into()).await.status() == Status::Ok,
        "still signed in"
    );
    assert_eq!(
        request::Entity::find_by_id(id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .claimed_by,
        None
    );
}

#[rocket::async_test]
async fn a_document_id_under_another_request_is_404() {
    let app = TestApp::with_staff(|_| {}).await;
    let (first, first_doc) = one_request(&app).await;
    let (second, _) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let crossed = app
        .staff_get(
            &alice,
            format!("/review/requests/{second}/documents/{first_doc}"),
        )
        .await;
    assert_eq!(crossed.status(), Status::NotFound);
    let unknown = app
        .staff_get(
            &alice,
            format!(
                "/review/requests/{first}/documents/{}",
                uuid::Uuid::new_v4()
            ),
        )
        .await;
    assert_eq!(unknown.status(), Status::NotFound);
    let malformed = app
        .staff_get(
            &alice,
            format!("/review/requests/{first}/documents/..%2F..%2Fetc"),
        )
        .await;
    assert_eq!(malformed.status(), Status::NotFound);
    assert_eq!(
        app.staff_get(
            &alice,
            format!("/review/requests/{first}/documents/{first_doc}")
        )
        .await
        .status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn repeated_failed_logins_are_throttled_and_rotating_forwarded_for_does_not_help() {
    let app = TestApp::with_staff(|_| {}).await;
    for attempt in 0..5 {
        let forwarded = format!("203.0.113.{attempt}");
        let (status, _) = app
            .try_sign_in("alice", "wrong password!!", Some(&forwarded))
            .await;
        assert_eq!(status, Status::Unauthorized);
    }
    let (status, session) = app
        .try_sign_in("alice", PASSWORD, Some("198.51.100.1"))
        .await;
    assert_eq!(
        status,
        Status::TooManyRequests,
        "the right password does not get through a lock"
    );
    assert!(session.is_none());

    // Per address: many names from one address.
    for attempt in 0..20 {
        let (status, _) = app
            .try_sign_in(
                &format!("nobody{attempt}"),
                "wrong password!!",
                Some(&format!("192.0.2.{attempt}")),
            )
            .await;
        assert_ne!(status, Status::SeeOther);
    }
    let (status, _) = app.try_sign_in("bob", PASSWORD, None).await;
    assert_eq!(status, Status::TooManyRequests, "the address is locked");
}

#[rocket::async_test]
async fn twenty_parallel_guesses_get_at_most_five_password_checks() {
    let app = TestApp::with_staff(|_| {}).await;
    let attempts =
        (0..20).map(|_| app.try_sign_in_from("alice", "wrong password!!", "203.0.113.9"));
    let statuses: Vec<Status> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let checked = app.audit_details("login_failed").await.len();
    assert!(checked <= 5, "{checked} passwords were checked");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == Status::TooManyRequests)
            .count(),
        20 - checked
    );
}

#[rocket::async_test]
async fn wrong_passwords_from_elsewhere_do_not_lock_a_reviewer_out() {
    let app = TestApp::with_staff(|_| {}).await;
    for _ in 0..6 {
        let (status, _) = app
            .try_sign_in_from("alice", "wrong password!!", "2001:db8:1:2::7")
            .await;
        assert_ne!(status, Status::SeeOther);
    }
    // The attacker's whole /64 is locked out of this account…
    let (status, _) = app
        .try_sign_in_from("alice", PASSWORD, "2001:db8:1:2:ffff::1")
        .await;
    assert_eq!(status, Status::TooManyRequests);
    // …but Alice, elsewhere, still gets in.
    let (status, session) = app
        .try_sign_in_from("alice", PASSWORD, "198.51.100.20")
        .await;
    assert_eq!(status, Status::SeeOther);
    assert!(session.is_some());
}

#[rocket::async_test]
async fn unknown_and_known_names_get_the_same_answer() {
    let app = TestApp::with_staff(|_| {}).await;
    let page = |name: &'static str| {
        let app = &app;
        async move {
            let csrf_page = app.client.get("/review/login").dispatch().await;
            let csrf = form_token(&csrf_page);
            let response = app
                .client
                .post("/review/login")
                .header(ContentType::Form)
                .private_cookie(Cookie::new("td_csrf", csrf.clone()))
                .body(form_body(&[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("password", "wrong password!!"),
                ]))
                .dispatch()
                .await;
            let status = response.status();
            let html = response
                .into_string()
                .await
                .unwrap()
                .replace(name, "NAME")
                .replace(&csrf, "CSRF");
            (status, html)
        }
    };
    assert_eq!(page("alice").await, page("mallory").await);
}

#[rocket::async_test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::start_for_staff(|_| {}).await;
    let token = transfer_desk::accounts::setup_token_if_needed(app.db())
        .await
        .unwrap()
        .unwrap();
    let uri = format!("/review/setup/{}", token.expose());
    let page = app.client.get(uri.clone()).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let csrf = form_token(&page);
    let post = |password: &'static str| {
        let (uri, csrf) = (uri.clone(), csrf.clone());
        let app = &app;
        async move {
            app.client
                .post(uri)
                .header(ContentType::Form)
                .private_cookie(Cookie::new("td_csrf", csrf.clone()))
                .body(form_body(&[
                    ("csrf_token", &csrf),
                    ("name", "root"),
                    ("password", password),
                    ("password_again", password),
                ]))
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(post("short").await, Status::UnprocessableEntity);
    assert_eq!(post(PASSWORD).await, Status::SeeOther);
    assert_eq!(
        post(PASSWORD).await,
        Status::NotFound,
        "the link works once"
    );
    assert_eq!(
        app.client.get(uri).dispatch().await.status(),
        Status::NotFound
    );
    let root = transfer_desk::accounts::find_by_name(app.db(), "root")
        .await
        .unwrap()
        .unwrap();
    assert!(root.is_admin);
    assert!(transfer_desk::accounts::setup_token_if_needed(app.db())
        .await
        .unwrap()
        .is_none());
    let _ = app.sign_in("root").await;
}

#[rocket::async_test]
async fn the_sweeper_removes_what_a_crash_left_behind() {
    let app = TestApp::with_staff(|_| {}).await;
    one_request(&app).await;
    let services = app.services();
    let store = &services.store;

    // Crash between writing a file and committing its row: an unreferenced file.
    let orphan = format!("{}.sealed", uuid::Uuid::new_v4());
    store
        .put(
            &orphan,
            b"ciphertext of a submission that never committed".to_vec(),
        )
        .await
        .unwrap();
    let report = sweep(services, Utc::now()).await;
    assert_eq!(
        report.orphans_removed, 0,
        "within the grace period a file is left alone"
    );
    assert!(store.get(&orphan).await.is_ok());
    sweep(services, Utc::now() + Duration::minutes(11)).await;
    assert!(
        store.get(&orphan).await.is_err(),
        "past the grace period it is removed"
    );

    // Crash between committing a shred and unlinking: key gone, file and outbox row left.
    let doc = document::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    document::Entity::update_many()
        .col_expr(
            document::Column::WrappedKey,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(document::Column::Id.eq(doc.id))
        .exec(app.db())
        .await
        .unwrap();
    deletion::Entity::insert(deletion::ActiveModel {
        storage_name: sea_orm::Set(doc.storage_name.clone()),
        created_at: sea_orm::Set(Utc::now()),
        attempts: sea_orm::Set(0),
        ..Default::default()
    })
    .exec(app.db())
    .await
    .unwrap();
    assert!(store.get(&doc.storage_name).await.is_ok());
    let report = sweep(services, Utc::now()).await;
    assert_eq!(report.unlinked_from_outbox, 1);
    assert!(store.get(&doc.storage_name).await.is_err());
    assert!(deletion::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
}

#[rocket::async_test]
async fn undecided_requests_expire_and_codes_are_erased_after_their_ttl() {
    let app = TestApp::with_staff(|_| {}).await;
    let (stale, stale_token) = app.submit_example().await;
    let (approved, approved_token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, format!("/review/requests/{approved}/claim"), &[])
        .await;
    app.staff_post(
        &alice,
        format!("/review/requests/{approved}/approve"),
        &[
            ("confirm_contested", "true"),
            ("contested_reason", "the other request is stale"),
        ],
    )
    .await;
    assert!(app.status_by_api(approved, &approved_token).await["transfer_code"].is_string());

    let report = sweep(app.services(), Utc::now() + Duration::days(31)).await;
    assert!(report.failed.is_empty());
    assert_eq!((report.requests_expired, report.codes_erased), (1, 1));
    let status = app.status_by_api(stale, &stale_token).await;
    assert_eq!(status["status"], "expired");
    assert!(document::Entity::find()
        .filter(document::Column::WrappedKey.is_not_null())
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
    assert!(app.stored_files().is_empty());
    let code = transfer_code::Entity::find_by_id(approved)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(code.sealed_code.is_none(), "the code is erased");
    assert!(
        !code.code_hash.is_empty(),
        "its salted hash stays for the audit"
    );
    let status = app.status_by_api(approved, &approved_token).await;
    assert!(status["transfer_code"].is_null());
    let page = app.page(format!("/track/{approved_token}")).await;
    assert!(page.contains("has been erased"));
}

#[rocket::async_test]
async fn after_the_evidence_period_only_the_evidence_remains() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, _) = app.submit_example().await;
    app.try_sign_in("bob", "wrong password!!", None).await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, format!("/review/requests/{id}/claim"), &[])
        .await;
    app.staff_post(&alice, format!("/review/requests/{id}/approve"), &[])
        .await;

    let services = app.services();
    let early = sweep(services, Utc::now() + Duration::days(364)).await;
    assert_eq!(
        early.personal_data_erased, 0,
        "not before the evidence period ends"
    );
    let report = sweep(services, Utc::now() + Duration::days(366)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.personal_data_erased, 1);

    let found = request::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            found.requester_name.as_str(),
            found.requester_email.as_str()
        ),
        ("", "")
    );
    assert!(found.requester_phone.is_none() && found.client_addr.is_none());
    assert!(found.personal_data_erased_at.is_some());
    let code = transfer_code::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.recipient, "");
    let evidence = decision::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        (
            evidence[0].reviewer_name.as_str(),
            evidence[0].document_kinds.as_str()
        ),
        ("alice", "id_front")
    );
    assert!(session::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
    assert!(login_throttle::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
}

#[rocket::async_test]
async fn one_failing_sweeper_stage_does_not_stop_the_others() {
    let app = TestApp::with_staff(|_| {}).await;
    let (stale, _) = app.submit_example().await;
    // The document store is gone: listing it for orphans fails.
    std::fs::remove_dir_all(app.services().store.files_dir().unwrap()).unwrap();
    let report = sweep(app.services(), Utc::now() + Duration::days(31)).await;
    assert_eq!(report.failed, ["orphaned files"]);
    assert_eq!(report.requests_expired, 1, "expiry still ran");
    let found = request::Entity::find_by_id(stale)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.state, RequestState::Expired);
}
