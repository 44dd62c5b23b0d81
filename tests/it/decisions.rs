//! Attacks on decisions and codes: double approvals, approvals of a document nobody saw,
//! a second code for one domain, expiry between sweeps, and failures after a commit.

use crate::common::registry::{both_ways, TestRegistry, Way};
use crate::common::*;
use entities::{approval, deletion, document, request, transfer_code};
use rocket::http::Status;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

both_ways!(a_double_click_on_approve_hands_one_code_to_the_registry);

async fn a_double_click_on_approve_hands_one_code_to_the_registry(way: Way) {
    let registry = TestRegistry::start(way, &[]).await;
    let app = TestApp::with_staff(|s| registry.configure(s)).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;

    let uri = review_uri(id, "/approve");
    let (a, b, c, d) = tokio::join!(
        app.staff_post(&alice, uri.clone(), &[]),
        app.staff_post(&alice, uri.clone(), &[]),
        app.staff_post(&alice, uri.clone(), &[]),
        app.staff_post(&alice, uri.clone(), &[]),
    );
    let statuses = [a.status(), b.status(), c.status(), d.status()];
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::SeeOther).count(),
        1,
        "{statuses:?}"
    );

    let code = app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(registry.changes_sent(), 1, "exactly one hand-off");
    assert_eq!(
        registry.code(),
        Some(code),
        "of the code the requester reads"
    );
}

#[rocket::async_test]
async fn approvals_given_before_a_new_document_do_not_count_for_it() {
    let app = TestApp::with_staff(|s| {
        s.approvals = transfer_desk::platform::config::review::ApprovalPolicy::Fixed(2);
    })
    .await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;

    // Alice approves the first photo; Bob asks for a new one, which the requester sends.
    app.claim_and_approve(&alice, id).await;
    app.staff_post(&bob, review_uri(id, "/claim"), &[]).await;
    let asked = app
        .staff_post(
            &bob,
            review_uri(id, "/request-document"),
            &[("kind", "id_front"), ("note", "The photo is blurred.")],
        )
        .await;
    assert_eq!(asked.status(), Status::SeeOther);
    let approvals = approval::Entity::find()
        .filter(approval::Column::RequestId.eq(id))
        .all(app.db())
        .await
        .unwrap();
    assert!(
        approvals.is_empty(),
        "the approval of the old photo is withdrawn"
    );
    app.provide_document(&token, &camera_photo()).await;

    // Bob approves the new photo: one approval of these documents, not two.
    app.claim_and_approve(&bob, id).await;
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "submitted");
    assert!(status["transfer_code"].is_null());

    // Alice, having seen the new photo too, gives the second approval.
    app.claim_and_approve(&alice, id).await;
    assert_eq!(app.status_by_api(id, &token).await["status"], "approved");
}

#[rocket::async_test]
async fn a_second_code_for_one_domain_needs_an_explicit_confirmation() {
    let app = TestApp::with_staff(|_| {}).await;
    let (first, _) = app.submit_example().await;
    let (second, second_token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;

    let queue = app.staff_page(&alice, "/review").await;
    assert!(queue.contains("also claimed"), "the queue shows the clash");

    app.staff_post(&alice, review_uri(second, "/claim"), &[])
        .await;
    let page = app.staff_page(&alice, review_uri(second, "")).await;
    assert!(page.contains("Other claims on example.com"));
    assert!(page.contains(&format!("/review/requests/{first}")));

    let unconfirmed = app
        .staff_post(&alice, review_uri(second, "/approve"), &[])
        .await;
    assert_eq!(unconfirmed.status(), Status::SeeOther);
    assert_eq!(location(&unconfirmed), review_uri(second, ""));
    assert_eq!(
        app.status_by_api(second, &second_token).await["status"],
        "submitted",
        "not approved without the confirmation"
    );

    let confirmed = app
        .staff_post(
            &alice,
            review_uri(second, "/approve"),
            &[
                ("confirm_contested", "true"),
                ("contested_reason", "the first request is a duplicate"),
            ],
        )
        .await;
    assert_eq!(confirmed.status(), Status::SeeOther);
    assert_eq!(
        app.status_by_api(second, &second_token).await["status"],
        "approved"
    );
    let audit = app.audit_details("approval").await;
    assert!(
        audit
            .iter()
            .any(|d| d.contains("the first request is a duplicate")),
        "{audit:?}"
    );
}

#[rocket::async_test]
async fn a_request_past_its_retention_cannot_be_viewed_or_approved_before_the_sweep() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    let doc = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();

    // Thirty-one days pass; the sweeper has not run yet.
    let found = request::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let created_at = found.created_at - chrono::Duration::days(31);
    let mut aged = found.into_active_model();
    aged.created_at = Set(created_at);
    aged.update(app.db()).await.unwrap();

    let view = app
        .staff_get(&alice, review_uri(id, &format!("/documents/{}", doc.id)))
        .await;
    assert_eq!(view.status(), Status::NotFound);
    let approve = app
        .staff_post(&alice, review_uri(id, "/approve"), &[])
        .await;
    assert_eq!(approve.status(), Status::Conflict);
    assert_eq!(app.status_by_api(id, &token).await["status"], "expired");
    assert!(transfer_code::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
    assert!(app.stored_files().is_empty(), "its file is gone too");
}

async fn refuse_outbox_deletes(app: &TestApp) {
    use sea_orm::{ConnectionTrait, DbBackend};
    let statements: &[&str] = match app.db().get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION refuse_delete() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_delete BEFORE DELETE ON deletion_outbox FOR EACH ROW EXECUTE FUNCTION refuse_delete()",
        ],
        _ => &["CREATE TRIGGER refuse_delete BEFORE DELETE ON deletion_outbox BEGIN SELECT RAISE(ABORT, 'injected failure'); END"],
    };
    for statement in statements {
        app.db().execute_unprepared(statement).await.unwrap();
    }
}

#[rocket::async_test]
async fn a_decision_that_committed_is_reported_as_done_even_if_unlinking_fails() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    // After the commit, finishing the unlink fails: the database refuses to let go of the
    // outbox row (as it would in an outage between the two steps).
    refuse_outbox_deletes(&app).await;

    let alice = app.sign_in("alice").await;
    let approved = app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);
    assert_eq!(app.status_by_api(id, &token).await["status"], "approved");
    let queued = deletion::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(
        queued.len(),
        1,
        "the unlink waits in the outbox for the sweeper"
    );
}
