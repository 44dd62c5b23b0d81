//! The refusals of reviewers' passkeys that no browser would make on purpose: a replayed
//! answer, an answer to another challenge, a ceremony past its five minutes, a counter going
//! backwards (a cloned passkey), a disabled reviewer's passkey, a step-up past its five
//! minutes, and one without user verification; and the ways around passkeys an attacker
//! holding a session (or a password) tries: adding their own passkey, removing the owner's,
//! and a password-only session where passkeys are required. A software passkey plays the
//! device.

use chrono::{Duration, Utc};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::accounts;
use transfer_desk::accounts::passkeys::{self, ChangeKind, Enroller, PasskeyError};
use transfer_desk::accounts::sessions::ActiveSession;
use transfer_desk::workflow::RequestState;

use crate::common::soft_passkey::SoftPasskey;
use crate::common::*;

const ORIGIN: &str = "http://localhost";

async fn session_of(app: &TestApp, staff: &Staff) -> ActiveSession {
    accounts::sessions::load_session(app.db(), &staff.session, Utc::now())
        .await
        .unwrap()
        .expect("a live session")
}

/// Adds a passkey named `name` from `device`, as `enroller`.
async fn register(
    relying_party: &passkeys::Passkeys,
    db: &sea_orm::DatabaseConnection,
    enroller: &Enroller<'_>,
    name: &str,
    device: &mut SoftPasskey,
) -> Result<passkeys::PasskeyChange, PasskeyError> {
    let started =
        passkeys::start_registration(relying_party, db, enroller, name, Utc::now()).await?;
    let answer = device.register(&started.options);
    passkeys::finish_registration(
        relying_party,
        db,
        enroller,
        &started.ceremony,
        &answer,
        Utc::now(),
    )
    .await
}

/// The first passkey of a signed-in reviewer who typed their password again.
fn with_password(session: &ActiveSession) -> Enroller<'_> {
    Enroller::Session {
        session,
        password_confirmed: true,
    }
}

/// Alice, signed in with her password, adds a software passkey (her first: with her
/// password typed again).
async fn alice_with_passkey(app: &TestApp) -> (Staff, SoftPasskey) {
    let alice = app.sign_in("alice").await;
    let session = session_of(app, &alice).await;
    let mut device = SoftPasskey::new(ORIGIN);
    let enroller = with_password(&session);
    register(
        &app.services().passkeys,
        app.db(),
        &enroller,
        "work laptop",
        &mut device,
    )
    .await
    .unwrap();
    (alice, device)
}

/// A step-up of `session` with `device`, now.
async fn step_up(app: &TestApp, session: &ActiveSession, device: &mut SoftPasskey) {
    let rp = &app.services().passkeys;
    let started = passkeys::sign_in::start_step_up(rp, app.db(), session, Utc::now())
        .await
        .unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    let answer = device.assert(&options, true);
    passkeys::sign_in::finish_step_up(
        rp,
        app.db(),
        session,
        &started.ceremony,
        &answer,
        Utc::now(),
    )
    .await
    .unwrap();
}

/// A sign-in started now: its options as JSON, and its ceremony.
async fn sign_in_options(
    app: &TestApp,
    at: chrono::DateTime<Utc>,
) -> (
    serde_json::Value,
    transfer_desk::platform::crypto::CeremonyToken,
) {
    let started = passkeys::sign_in::start_sign_in(&app.services().passkeys, app.db(), at)
        .await
        .unwrap();
    (
        serde_json::to_value(&started.options).unwrap(),
        started.ceremony,
    )
}

async fn finish_sign_in(
    app: &TestApp,
    ceremony: &transfer_desk::platform::crypto::CeremonyToken,
    answer: &str,
) -> Result<String, PasskeyError> {
    passkeys::sign_in::finish_sign_in(
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
    let app = TestApp::with_staff(|s| {
        s.approvals = transfer_desk::platform::config::review::ApprovalPolicy::Fixed(1)
    })
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
    let step_up =
        |at| passkeys::sign_in::start_step_up(&app.services().passkeys, app.db(), &session, at);
    let started = step_up(Utc::now()).await.unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    let unverified = device.assert(&options, false);
    let finish = |ceremony, answer: String, at| {
        let session = session.clone();
        let app = &app;
        async move {
            passkeys::sign_in::finish_step_up(
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
    let started = passkeys::start_registration(
        &services.passkeys,
        app.db(),
        &with_password(&alices),
        "bob's phone",
        Utc::now(),
    )
    .await
    .unwrap();
    let answer = SoftPasskey::new(ORIGIN).register(&started.options);
    let finished = passkeys::finish_registration(
        &services.passkeys,
        app.db(),
        &with_password(&bobs),
        &started.ceremony,
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
    assert_eq!(
        reset.passkeys_removed.map(|change| change.what),
        Some(ChangeKind::AllRemoved(1))
    );
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
    let session = accounts::sessions::load_session(&db, session_id.expose(), Utc::now())
        .await
        .unwrap()
        .unwrap();
    let relying_party = passkeys::Passkeys::new(
        None,
        transfer_desk::platform::config::review::PasskeyPolicy::Optional,
    )
    .unwrap();
    let mut device = SoftPasskey::new(ORIGIN);
    register(
        &relying_party,
        &db,
        &with_password(&session),
        "work laptop",
        &mut device,
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
        s.approvals = transfer_desk::platform::config::review::ApprovalPolicy::Fixed(1);
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

/// A JSON POST of a ceremony endpoint, as `static/passkeys.js` sends it.
async fn ceremony_post(
    app: &TestApp,
    staff: &Staff,
    path: &str,
    fields: &[(&str, &str)],
) -> (Status, serde_json::Value) {
    let response = app.staff_post(staff, path.into(), fields).await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// With a copy of Alice's session cookie (signed in with her password, as the attacker's
/// copy was), nobody adds a passkey to her account: not without a step-up with one of hers,
/// and not with her password either. Her own step-up lets her add one.
#[rocket::async_test]
async fn a_stolen_session_adds_no_passkey_to_an_account_that_has_one() {
    let app = TestApp::with_staff(|_| {}).await;
    let (_, mut alices_device) = alice_with_passkey(&app).await;
    let stolen = app.sign_in("alice").await;
    let session = session_of(&app, &stolen).await;
    let rp = &app.services().passkeys;
    let mut attackers_device = SoftPasskey::new(ORIGIN);
    let added = register(
        rp,
        app.db(),
        &with_password(&session),
        "attacker",
        &mut attackers_device,
    )
    .await;
    assert!(
        matches!(added, Err(PasskeyError::StepUpNeeded)),
        "{added:?}"
    );

    // The browser's way: the page is told to step up first, and no ceremony starts.
    let (status, answer) = ceremony_post(
        &app,
        &stolen,
        "/review/passkeys/register/start",
        &[("name", "attacker"), ("current", PASSWORD)],
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(answer["step_up"], true, "{answer}");
    assert!(answer.get("options").is_none());
    assert_eq!(app.count(entities::passkey::Entity).await, 1);
    assert_eq!(app.count(entities::passkey_ceremony::Entity).await, 0);

    // Alice herself steps up with her passkey, then adds a second one.
    let alice = app.sign_in("alice").await;
    step_up(&app, &session_of(&app, &alice).await, &mut alices_device).await;
    let session = session_of(&app, &alice).await;
    let enroller = Enroller::Session {
        session: &session,
        password_confirmed: false,
    };
    let mut phone = SoftPasskey::new(ORIGIN);
    register(rp, app.db(), &enroller, "phone", &mut phone)
        .await
        .unwrap();
    assert_eq!(app.count(entities::passkey::Entity).await, 2);
}

/// The status and the message of a password sign-in.
async fn sign_in_answer(app: &TestApp, name: &str, password: &str) -> (Status, String) {
    let page = app.client.get("/review/login").dispatch().await;
    let csrf = form_token(&page);
    let response = app
        .client
        .post("/review/login")
        .header(rocket::http::ContentType::Form)
        .private_cookie(rocket::http::Cookie::new("td_csrf", csrf.clone()))
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("name", name),
            ("password", password),
        ]))
        .dispatch()
        .await;
    let status = response.status();
    let page = response.into_string().await.unwrap();
    let message = page
        .split("role=\"alert\"")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_owned();
    (status, message)
}

/// The first passkey of an account, where passkeys are optional: only with the current
/// password typed again, never with the session alone.
#[rocket::async_test]
async fn the_first_passkey_needs_the_current_password_typed_again() {
    let app = TestApp::with_staff(|_| {}).await;
    let bob = app.sign_in("bob").await;
    let session = session_of(&app, &bob).await;
    let enroller = Enroller::Session {
        session: &session,
        password_confirmed: false,
    };
    let rp = &app.services().passkeys;
    let added = register(
        rp,
        app.db(),
        &enroller,
        "phone",
        &mut SoftPasskey::new(ORIGIN),
    )
    .await;
    assert!(
        matches!(added, Err(PasskeyError::PasswordNeeded)),
        "{added:?}"
    );

    let start = "/review/passkeys/register/start";
    let (status, answer) = ceremony_post(&app, &bob, start, &[("name", "phone")]).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("current password"));
    let wrong = [("name", "phone"), ("current", "not the password")];
    let (status, answer) = ceremony_post(&app, &bob, start, &wrong).await;
    assert_eq!(status, Status::UnprocessableEntity, "{answer}");
    assert_eq!(app.count(entities::passkey_ceremony::Entity).await, 0);
    let right = [("name", "phone"), ("current", PASSWORD)];
    let (status, answer) = ceremony_post(&app, &bob, start, &right).await;
    assert_eq!(status, Status::Ok, "{answer}");
    assert!(answer["options"]["publicKey"]["challenge"].is_string());
}

/// Where passkeys are required: a password signs nobody in (one answer, right or wrong), a
/// session begun with a password before the switch ends, and the first passkey comes only
/// through a one-time link, which works once.
#[rocket::async_test]
async fn where_passkeys_are_required_a_password_adds_nothing_and_signs_nobody_in() {
    let app = TestApp::start_for_staff(|s| {
        s.staff_passkeys = transfer_desk::platform::config::review::PasskeyPolicy::Required;
    })
    .await;
    app.add_reviewer("alice", true).await;
    app.add_reviewer("bob", false).await;

    let right = sign_in_answer(&app, "bob", PASSWORD).await;
    let wrong = sign_in_answer(&app, "bob", "not the password").await;
    assert_eq!(right.0, Status::Unauthorized);
    assert!(right.1.contains("passkey"), "{right:?}");
    assert_eq!(
        right, wrong,
        "the same answer whether the password was right"
    );

    // A session begun with a password while passkeys were optional.
    let db = app.db();
    let throttle = accounts::LoginThrottle::default();
    let accounts::LoginOutcome::Success { session_id, .. } =
        accounts::login(db, &throttle, "bob", PASSWORD, "127.0.0.1", false)
            .await
            .unwrap()
    else {
        panic!("bob signs in with his password");
    };
    let before_switch = Staff {
        name: "bob".into(),
        session: session_id.expose().to_owned(),
        csrf: String::new(),
    };
    let queue = app.staff_get(&before_switch, "/review".into()).await;
    assert_ne!(queue.status(), Status::Ok);
    assert!(
        accounts::sessions::load_session(db, session_id.expose(), Utc::now())
            .await
            .unwrap()
            .is_none(),
        "the password-only session ended"
    );

    // An admin's one-time link enrols Bob's first passkey, once.
    let link = accounts::issue_enrolment_link(db, "bob", "alice")
        .await
        .unwrap();
    let page = app
        .client
        .get(format!("/review/enrol/{}", link.expose()))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    assert!(page.into_string().await.unwrap().contains("bob"));
    let bob = accounts::find_by_name(db, "bob").await.unwrap().unwrap();
    let enroller = Enroller::Link {
        link: &link,
        reviewer: &bob,
    };
    let rp = &app.services().passkeys;
    let mut device = SoftPasskey::new(ORIGIN);
    register(rp, db, &enroller, "bob's phone", &mut device)
        .await
        .unwrap();
    assert!(accounts::enrolment_link_holder(db, &link)
        .await
        .unwrap()
        .is_none());
    let again = register(rp, db, &enroller, "another", &mut SoftPasskey::new(ORIGIN)).await;
    assert!(
        matches!(again, Err(PasskeyError::CeremonyGone)),
        "{again:?}"
    );
    let page = app
        .client
        .get(format!("/review/enrol/{}", link.expose()))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::NotFound, "a used link shows nothing");
    assert_eq!(app.audit_details("passkey_added").await.len(), 1);

    // A password link is no enrolment link.
    let reset = accounts::reset_password(db, "alice", "bob").await.unwrap();
    assert!(accounts::enrolment_link_holder(db, &reset.token)
        .await
        .unwrap()
        .is_none());
}

/// Removing a passkey waits for a fresh step-up with a passkey: a stolen session (and its
/// thief's knowledge of the password) removes nothing.
#[rocket::async_test]
async fn removing_a_passkey_needs_a_fresh_step_up() {
    let app = TestApp::with_staff(|_| {}).await;
    let (alice, mut device) = alice_with_passkey(&app).await;
    let id = entities::passkey::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let remove = format!("/review/passkeys/{id}/remove");
    let refused = app
        .staff_post(&alice, remove.clone(), &[("current", PASSWORD)])
        .await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("Confirm with your passkey"));
    assert_eq!(app.count(entities::passkey::Entity).await, 1);

    step_up(&app, &session_of(&app, &alice).await, &mut device).await;
    let removed = app.staff_post(&alice, remove, &[]).await;
    assert_eq!(removed.status(), Status::SeeOther);
    assert_eq!(app.count(entities::passkey::Entity).await, 0);
}

/// Every passkey added or removed is mailed to the reviewer and the staff address, and
/// listed on the reviewers page.
#[rocket::async_test]
async fn every_passkey_change_is_told_to_the_reviewer_and_the_staff() {
    let app = TestApp::with_staff(|s| {
        s.staff_mail = Some("security@host.example".into());
    })
    .await;
    accounts::set_email(app.db(), "bob", "bob@host.example")
        .await
        .unwrap();
    let bob = app.sign_in("bob").await;
    let start = "/review/passkeys/register/start";
    let fields = [("name", "work laptop"), ("current", PASSWORD)];
    let (_, started) = ceremony_post(&app, &bob, start, &fields).await;
    let mut device = SoftPasskey::new(ORIGIN);
    let credential = device.register(&started["options"]);
    let ceremony = started["ceremony"].as_str().unwrap();
    let finish = [("ceremony", ceremony), ("credential", credential.as_str())];
    let (status, done) =
        ceremony_post(&app, &bob, "/review/passkeys/register/finish", &finish).await;
    assert_eq!(status, Status::Ok, "{done}");

    let mails = entities::outbox_mail::Entity::find()
        .filter(entities::outbox_mail::Column::Kind.eq("passkey_changed"))
        .all(app.db())
        .await
        .unwrap();
    let mut to: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
    to.sort();
    assert_eq!(to, ["bob@host.example", "security@host.example"]);
    assert!(mails
        .iter()
        .all(|m| m.body.contains("“work laptop”") && m.body.contains("bob")));

    let alice = app.sign_in("alice").await;
    let page = app.staff_page(&alice, "/review/reviewers").await;
    assert!(page.contains("Passkey changes"), "{page}");
    assert!(page.contains("passkey_added"), "{page}");
}

/// A name the reviewer's passkeys already have is refused before the device is asked, so no
/// credential is left on a device that no account knows.
#[rocket::async_test]
async fn a_passkey_name_is_checked_before_the_device_is_asked() {
    let app = TestApp::with_staff(|_| {}).await;
    let (alice, mut device) = alice_with_passkey(&app).await;
    let session = session_of(&app, &alice).await;
    step_up(&app, &session, &mut device).await;
    let session = session_of(&app, &alice).await;
    let enroller = Enroller::Session {
        session: &session,
        password_confirmed: false,
    };
    let rp = &app.services().passkeys;
    for refused in ["Work  Laptop", "", "  "] {
        let started =
            passkeys::start_registration(rp, app.db(), &enroller, refused, Utc::now()).await;
        assert!(
            matches!(
                started,
                Err(PasskeyError::NameTaken | PasskeyError::InvalidName)
            ),
            "{refused:?}"
        );
    }
    assert_eq!(app.count(entities::passkey_ceremony::Entity).await, 0);
}

/// A sign-in with a passkey the desk does not know names it back, for the browser to tell the
/// device (signalUnknownCredential).
#[rocket::async_test]
async fn an_unknown_passkey_is_named_back_for_the_device_to_forget() {
    let app = TestApp::start().await;
    let csrf = app.csrf_token().await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let mut all = vec![("csrf_token", csrf.clone())];
        all.extend(fields);
        let body = form_body(
            &all.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let request = app
            .client
            .post(path)
            .header(rocket::http::ContentType::Form)
            .body(body);
        async move {
            let response = request.dispatch().await;
            let status = response.status();
            let text = response.into_string().await.unwrap();
            (
                status,
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            )
        }
    };
    let (_, started) = post("/review/passkeys/sign-in/start", vec![]).await;
    let mut stranger = SoftPasskey::new(ORIGIN);
    let answer = stranger.assert(&started["options"], true);
    let id = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, refused) = post(
        "/review/passkeys/sign-in/finish",
        vec![
            ("ceremony", started["ceremony"].as_str().unwrap().to_owned()),
            ("credential", answer),
        ],
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(refused["unknown_credential"]["credentialId"], id.as_str());
    assert_eq!(refused["unknown_credential"]["rpId"], "localhost");
}

/// An invitation's password link goes on to adding a passkey, through a link of its own.
#[rocket::async_test]
async fn a_password_set_through_a_link_goes_on_to_a_passkey() {
    let app = TestApp::with_staff(|_| {}).await;
    let token = accounts::invite_reviewer(app.db(), "carol", None, false, "alice")
        .await
        .unwrap();
    let (_, enrolment) = accounts::complete_password_link(app.db(), &token, PASSWORD)
        .await
        .unwrap()
        .unwrap();
    let carol = accounts::enrolment_link_holder(app.db(), &enrolment)
        .await
        .unwrap()
        .expect("the enrolment link is carol's");
    assert_eq!(carol.name, "carol");
}
