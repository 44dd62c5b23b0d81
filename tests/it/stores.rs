//! Each document store (`fs`, `db`, `s3` against moto's S3 server on loopback) keeps only
//! ciphertext, serves the reviewer's view, forgets a decided request's documents, answers
//! the readiness probe and lets the sweeper remove what no document refers to.

use crate::common;

use std::time::{Duration, SystemTime};

use crate::common::s3::S3Server;
use crate::common::*;
use chrono::Utc;
use entities::{document, request};
use rocket::http::Status;
use sea_orm::{EntityTrait, PaginatorTrait};
use transfer_desk::platform::storage::{name_for, StoreChoice};
use transfer_desk::workflow::sweep::sweep;

async fn readiness(app: &TestApp) -> (Status, serde_json::Value) {
    let response = app.client.get("/readyz").dispatch().await;
    let status = response.status();
    (status, response.into_json().await.unwrap())
}

/// The whole life of a document in the store `app` was started with.
async fn a_document_lives_and_dies_in_the_store(app: &TestApp) {
    let store = &app.services().store;
    let far_future = SystemTime::now() + Duration::from_secs(3600);
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", false).await;
    let (id, _) = app.submit_example().await;
    let stored = document::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let listed = store.entries_older_than(far_future).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&stored.storage_name));
    let sealed = store.get(&stored.storage_name).await.unwrap();
    assert!(!sealed.starts_with(&[0xFF, 0xD8]), "ciphertext, not a JPEG");
    let (status, ready) = readiness(app).await;
    assert_eq!(status, Status::Ok, "{ready}");
    assert_eq!(ready["document_store"], "ok");

    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    let view = app
        .staff_get(&alice, review_uri(id, &format!("/documents/{}", stored.id)))
        .await;
    assert_eq!(view.status(), Status::Ok);
    assert!(view.into_bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));

    let rejected = app
        .staff_post(
            &alice,
            review_uri(id, "/reject"),
            &[
                ("template", "reason-edited"),
                ("reason", "Please send an unedited photo."),
            ],
        )
        .await;
    assert_eq!(rejected.status(), Status::SeeOther);
    assert!(store
        .entries_older_than(far_future)
        .await
        .unwrap()
        .is_empty());
    assert!(store.get(&stored.storage_name).await.is_err());

    // A write whose row never committed (a crash in between): left alone within the grace
    // period, removed after it.
    let orphan = name_for(uuid::Uuid::new_v4());
    store.put(&orphan, b"sealed".to_vec()).await.unwrap();
    assert_eq!(sweep(app.services(), Utc::now()).await.orphans_removed, 0);
    assert!(store.get(&orphan).await.is_ok());
    let later = Utc::now() + chrono::Duration::minutes(11);
    assert_eq!(sweep(app.services(), later).await.orphans_removed, 1);
    assert!(store.get(&orphan).await.is_err());
}

#[rocket::async_test]
async fn the_file_store() {
    let app = TestApp::start_for_staff(|_| {}).await;
    assert!(app.services().store.files_dir().is_some());
    a_document_lives_and_dies_in_the_store(&app).await;
}

#[rocket::async_test]
async fn the_database_store_keeps_documents_as_rows_and_writes_no_file() {
    let app = TestApp::start_for_staff(|s| s.document_store = StoreChoice::Database).await;
    a_document_lives_and_dies_in_the_store(&app).await;
    assert!(app.services().store.files_dir().is_none());
    assert!(
        !app.dir.path().join("uploads").exists()
            || files_under(&app.dir.path().join("uploads")).is_empty()
    );
}

/// Points the process's `object_store` client at `server` (the only test in this file that
/// reads `AWS_*`).
fn use_s3_server(server: &S3Server) {
    for (name, value) in server.environment() {
        std::env::set_var(name, value);
    }
}

const BUCKET: &str = "transfer-desk-test";

#[rocket::async_test]
async fn the_s3_store_and_what_an_outage_of_it_does() {
    if !common::s3::available() {
        return;
    }
    let mut server = S3Server::start(BUCKET);
    use_s3_server(&server);
    let app = TestApp::start_for_staff(|s| {
        s.document_store = StoreChoice::Objects {
            bucket: BUCKET.into(),
            prefix: "documents".into(),
        }
    })
    .await;
    a_document_lives_and_dies_in_the_store(&app).await;

    // The store goes away: readiness says so, a submission fails plainly and leaves nothing.
    server.stop();
    let (status, ready) = readiness(&app).await;
    assert_eq!(status, Status::ServiceUnavailable);
    assert_eq!(ready["document_store"], "failing");
    let before = request::Entity::find().count(app.db()).await.unwrap();
    let response = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("example.com", &camera_photo()),
        )
        .await;
    assert!(response.status().code >= 500, "{}", response.status());
    let body = response.into_string().await.unwrap();
    assert!(
        !body.contains("127.0.0.1"),
        "no internals in the answer: {body}"
    );
    assert_eq!(
        request::Entity::find().count(app.db()).await.unwrap(),
        before
    );
}
