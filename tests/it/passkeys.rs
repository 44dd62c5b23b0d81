//! The refusals of reviewers' passkeys that no browser would make on purpose: a replayed
//! answer, an answer to another challenge, a ceremony past its five minutes, a counter going
//! backwards (a cloned passkey), a disabled reviewer's passkey, a step-up past its five
//! minutes, and one without user verification. A software passkey plays the device.

use chrono::{Duration, Utc};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::accounts::passkeys::{self, PasskeyError};
use transfer_desk::accounts::{self, ActiveSession};
use transfer_desk::workflow::RequestState;

use crate::common::soft_passkey::SoftPasskey;
use crate::common::*;

const ORIGIN: &str = "http://localhost";

async fn session_of(app: &TestApp, staff: &Staff) -> ActiveSession {
    accounts::load_session(app.db(), &staff.session, Utc::now())
        .await
        .unwrap()
        .expect("a live session")
}

/// Alice, signed in with her password, adds a software passkey.
async fn alice_with_passkey(app: &TestApp) -> (Staff, SoftPasskey) {
    let alice = app.sign_in("alice").await;
    let session = session_of(app, &alice).await;
    let services = app.services();
    let mut device = SoftPasskey::new(ORIGIN);
    let started = passkeys::start_registration(&services.passkeys, app.db(), &session, Utc::now())
        .await
        .unwrap();
    let answer = device.register(&started.options);
    passkeys::finish_registration(
        &services.passkeys,
        app.db(),
        &session,
        &started.ceremony,
        "work laptop",
        &answer,
        Utc::now(),
    )
    .await
    .unwrap();
    (alice, device)
}

/// A sign-in started now: its options as JSON, and its ceremony.
async fn sign_in_options(
    app: &TestApp,
    at: chrono::DateTime<Utc>,
) -> (serde_json::Value, transfer_desk::crypto::CeremonyToken) {
    let started = passkeys::start_sign_in(&app.services().passkeys, app.db(), at)
        .await
        .unwrap();
    (
        serde_json::to_value(&started.options).unwrap(),
        started.ceremony,
    )
}

async fn finish_sign_in(
    app: &TestApp,
    ceremony: &transfer_desk::crypto::CeremonyToken,
    answer: &str,
) -> Result<String, PasskeyError> {
    passkeys::finish_sign_in(
        &app.services().passkeys,
        app.db(),
        ceremony,
        answer,
        "127.0.0.1",
        Utc::now(),
    )
    .await
    .map(|(reviewer, _)| reviewer.name)
}

#[rocket::async_test]
async fn a_passkey_answer_signs_in_once_and_only_for_its_own_challenge() {
    let app = TestApp::with_staff(|_| {}).await;
    let (_, mut device) = alice_with_passkey(&app).await;

    let (options, ceremony) = sign_in_options(&app, Utc::now()).await;
    let answer = device.assert(&options, true);
    assert_eq!(
        finish_sign_in(&app, &ceremony, &answer).await.unwrap(),
        "alice"
    );
    assert!(
        matches!(
            finish_sign_in(&app, &ceremony, &answer).await,
            Err(PasskeyError::CeremonyGone)
        ),
        "a replayed answer finds no ceremony"
    );

    let (first, _) = sign_in_options(&app, Utc::now()).await;
    let (_, second) = sign_in_options(&app, Utc::now()).await;
    let for_first = device.assert(&first, true);
    assert!(
        matches!(
            finish_sign_in(&app, &second, &for_first).await,
            Err(PasskeyError::Refused(_))
        ),
        "an answer to another challenge"
    );

    let six_minutes_ago = Utc::now() - Duration::minutes(6);
    let (old, ceremony) = sign_in_options(&app, six_minutes_ago).await;
    let late = device.assert(&old, true);
    assert!(matches!(
        finish_sign_in(&app, &ceremony, &late).await,
        Err(PasskeyError::CeremonyGone)
    ));
}

#[rocket::async_test]
async fn a_counter_going_backwards_is_refused_and_recorded() {
    let app = TestApp::with_staff(|_| {}).await;
    let (_, mut device) = alice_with_passkey(&app).await;
    device.counter = 10;
    let (options, ceremony) = sign_in_options(&app, Utc::now()).await;
    let answer = device.assert(&options, true);
    finish_sign_in(&app, &ceremony, &answer).await.unwrap();
    let stored = entities::passkey::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sign_count, 11, "the counter is kept");

    // A copy of the passkey, made before those sign-ins, counts from where it was.
    device.counter = 3;
    let (options, ceremony) = sign_in_options(&app, Utc::now()).await;
    let cloned = device.assert(&options, true);
    assert!(matches!(
        finish_sign_in(&app, &ceremony, &cloned).await,
        Err(PasskeyError::CounterWentBack)
    ));
    let refused = app.audit_details("passkey_refused").await;
    assert!(
        refused
            .iter()
            .any(|d| d.contains("work laptop") && d.contains("counter went backwards")),
        "{refused:?}"
    );
}

#[rocket::async_test]
async fn a_disabled_reviewers_passkey_signs_nobody_in() {
    let app = TestApp::with_staff(|_| {}).await;
    let (_, mut device) = alice_with_passkey(&app).await;
    accounts::set_disabled(app.db(), "alice", true, "bob")
        .await
        .unwrap();
    let (options, ceremony) = sign_in_options(&app, Utc::now()).await;
    let answer = device.assert(&options, true);
    assert!(matches!(
        finish_sign_in(&app, &ceremony, &answer).await,
        Err(PasskeyError::Disabled)
    ));
}

#[rocket::async_test]
async fn a_step_up_lasts_five_minutes_and_needs_user_verification() {
    let app =
        TestApp::with_staff(|s| s.approvals = transfer_desk::config::ApprovalPolicy::Fixed(1))
            .await;
    let (alice, mut device) = alice_with_passkey(&app).await;
    let (id, _) = app.submit_example().await;

    // Signed in with a password, approving waits for the passkey.
    let response = app.claim_and_approve(&alice, id).await;
    assert_eq!(response.status(), Status::Forbidden);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("Confirm with your passkey"));
    let state = |app: &TestApp| {
        let db = app.db().clone();
        async move {
            entities::request::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .state
        }
    };
    assert_eq!(state(&app).await, RequestState::Submitted);

    // A passkey answer without user verification is no step-up.
    let session = session_of(&app, &alice).await;
    let step_up = |at| passkeys::start_step_up(&app.services().passkeys, app.db(), &session, at);
    let started = step_up(Utc::now()).await.unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    let unverified = device.assert(&options, false);
    let finish = |ceremony, answer: String, at| {
        let session = session.clone();
        let app = &app;
        async move {
            passkeys::finish_step_up(
                &app.services().passkeys,
                app.db(),
                &session,
                &ceremony,
                &answer,
                at,
            )
            .await
        }
    };
    assert!(matches!(
        finish(started.ceremony, unverified, Utc::now()).await,
        Err(PasskeyError::Refused(_))
    ));
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/approve"), &[])
            .await
            .status(),
        Status::Forbidden
    );

    // A step-up six minutes old no longer counts.
    let then = Utc::now() - Duration::minutes(6);
    let started = step_up(then).await.unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    finish(started.ceremony, device.assert(&options, true), then)
        .await
        .unwrap();
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/approve"), &[])
            .await
            .status(),
        Status::Forbidden
    );

    // A fresh one lets the approval through, and the audit trail names the passkey.
    let started = step_up(Utc::now()).await.unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    finish(started.ceremony, device.assert(&options, true), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        app.staff_post(&alice, review_uri(id, "/approve"), &[])
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(state(&app).await, RequestState::Approved);
    let step_ups = app.audit_details("passkey_step_up").await;
    assert!(
        step_ups.iter().all(|d| d.contains("“work laptop”")),
        "{step_ups:?}"
    );
    assert_eq!(step_ups.len(), 2);
}

#[rocket::async_test]
async fn a_registration_belongs_to_the_session_that_started_it() {
    let app = TestApp::with_staff(|_| {}).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    let (alices, bobs) = (session_of(&app, &alice).await, session_of(&app, &bob).await);
    let services = app.services();
    let started = passkeys::start_registration(&services.passkeys, app.db(), &alices, Utc::now())
        .await
        .unwrap();
    let answer = SoftPasskey::new(ORIGIN).register(&started.options);
    let finished = passkeys::finish_registration(
        &services.passkeys,
        app.db(),
        &bobs,
        &started.ceremony,
        "bob's phone",
        &answer,
        Utc::now(),
    )
    .await;
    assert!(matches!(finished, Err(PasskeyError::CeremonyGone)));
    let bobs_keys = entities::passkey::Entity::find()
        .filter(entities::passkey::Column::ReviewerId.eq(bobs.reviewer.id))
        .all(app.db())
        .await
        .unwrap();
    assert!(bobs_keys.is_empty());
}

#[rocket::async_test]
async fn a_reset_link_removes_the_reviewers_passkeys_and_says_so() {
    let app = TestApp::with_staff(|_| {}).await;
    alice_with_passkey(&app).await;
    let reset = accounts::reset_password(app.db(), "alice", "bob")
        .await
        .unwrap();
    assert_eq!(reset.passkeys_removed, 1);
    assert_eq!(app.count(entities::passkey::Entity).await, 0);
    let removed = app.audit_details("passkeys_removed").await;
    assert_eq!(removed, ["alice: 1 passkey(s)"]);
}

/// When every admin lost their passkey, the operator lists and removes them on the server.
#[rocket::async_test]
async fn the_cli_lists_a_reviewers_passkeys_and_removes_them_all() {
    let server = crate::common::server::Server::start(&[]).await;
    server.add_reviewer("alice", PASSWORD, true);
    assert!(server
        .run(&["reviewer", "passkeys", "alice"], "")
        .contains("alice has no passkey"));

    // Alice adds one (through the service's own functions, on its database).
    let db = server.database().await;
    let throttle = accounts::LoginThrottle::default();
    let accounts::LoginOutcome::Success { session_id, .. } =
        accounts::login(&db, &throttle, "alice", PASSWORD, "127.0.0.1", false)
            .await
            .unwrap()
    else {
        panic!("alice signs in");
    };
    let session = accounts::load_session(&db, session_id.expose(), Utc::now())
        .await
        .unwrap()
        .unwrap();
    let relying_party = passkeys::Passkeys::new(None).unwrap();
    let started = passkeys::start_registration(&relying_party, &db, &session, Utc::now())
        .await
        .unwrap();
    let answer = SoftPasskey::new(ORIGIN).register(&started.options);
    passkeys::finish_registration(
        &relying_party,
        &db,
        &session,
        &started.ceremony,
        "work laptop",
        &answer,
        Utc::now(),
    )
    .await
    .unwrap();

    let listed = server.run(&["reviewer", "passkeys", "alice"], "");
    assert!(listed.contains("work laptop\tadded "), "{listed}");
    assert!(listed.contains("never used"), "{listed}");
    let removed = server.run(&["reviewer", "passkeys", "alice", "--remove-all"], "");
    assert!(
        removed.contains("removed 1 passkey(s) of alice"),
        "{removed}"
    );
    assert!(server
        .run(&["reviewer", "passkeys", "alice"], "")
        .contains("alice has no passkey"));
}

/// Cancelling a code and an admin's action on another reviewer wait for the passkey too.
#[rocket::async_test]
async fn cancelling_a_code_and_changing_a_reviewer_wait_for_the_passkey() {
    let app = TestApp::with_staff(|s| {
        s.approvals = transfer_desk::config::ApprovalPolicy::Fixed(1);
    })
    .await;
    let (id, _) = app.submit_example().await;
    let bob = app.sign_in("bob").await;
    assert_eq!(
        app.claim_and_approve(&bob, id).await.status(),
        Status::SeeOther,
        "bob has no passkey: nothing to step up with"
    );
    let (alice, _) = alice_with_passkey(&app).await;
    let withdraw = app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(withdraw.status(), Status::Forbidden);
    assert!(withdraw
        .into_string()
        .await
        .unwrap()
        .contains("Confirm with your passkey"));
    assert!(app.audit_details("approval_withdrawn").await.is_empty());
    let disable = app
        .staff_post(&alice, "/review/reviewers/bob/disable".into(), &[])
        .await;
    assert_eq!(disable.status(), Status::Forbidden);
    let bob_now = accounts::find_by_name(app.db(), "bob")
        .await
        .unwrap()
        .unwrap();
    assert!(!bob_now.disabled);
}
