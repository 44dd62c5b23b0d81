//! What the outage's customers asked for: a nameserver change instead of a transfer, a
//! holder who verifies through their own link, and messages with the reviewers.

use crate::common::registry::{both_ways, TestRegistry, Way};
use crate::common::server::free_port;
use crate::common::smtp::{self, SmtpSink};
use crate::common::*;
use entities::{document, request, request_event};
use rocket::http::Status;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::workflow::sweep;

/// The nameservers the portfolio and the registry hold for example.com before any change.
const OLD_HOSTS: [&str; 2] = ["ns1.old-host.ch", "ns2.old-host.ch"];

/// A staff app (alice an admin) whose registry is `registry`, and whose portfolio knows the
/// old nameservers.
async fn app_with_registry(registry: &TestRegistry) -> TestApp {
    let app = TestApp::start_for_staff(|s| registry.configure(s)).await;
    let csv = format!(
        "domain,registrant_name,registrant_email,nameservers\n\
         example.com,Anna Muster,anna@example.com,{}\n",
        OLD_HOSTS.join(" ")
    );
    transfer_desk::registry::domains::import_csv(app.db(), csv.as_bytes())
        .await
        .unwrap();
    app.add_reviewer("alice", true).await;
    app
}

fn nameserver_change(hosts: &str) -> Multipart {
    valid_submission("example.com", &camera_photo())
        .text("kind", "nameservers")
        .text("nameservers", hosts)
}

both_ways!(a_nameserver_change_is_approved_end_to_end_and_the_registry_receives_the_hosts);

async fn a_nameserver_change_is_approved_end_to_end_and_the_registry_receives_the_hosts(way: Way) {
    let registry = TestRegistry::start(way, &OLD_HOSTS).await;
    let app = app_with_registry(&registry).await;
    let (id, token) = app
        .submit_by_api(nameserver_change(
            "NS1.new-host.ch., ns2.new-host.ch\nns3.new-host.ch",
        ))
        .await;
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["kind"], "nameservers");
    assert_eq!(
        status["nameservers"],
        serde_json::json!(["ns1.new-host.ch", "ns2.new-host.ch", "ns3.new-host.ch"])
    );
    assert!(status["nameservers_set_at"].is_null());

    let alice = app.sign_in("alice").await;
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("nameserver change"));
    assert!(
        page.contains("ns1.old-host.ch"),
        "the current nameservers are shown"
    );
    assert!(
        page.contains("ns3.new-host.ch"),
        "beside the requested ones"
    );
    let approved = app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);

    assert_eq!(
        registry.nameservers(),
        ["ns1.new-host.ch", "ns2.new-host.ch", "ns3.new-host.ch"]
    );
    assert_eq!(registry.changes_sent(), 1);
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    assert!(status["nameservers_set_at"].is_string());
    assert!(
        status["transfer_code"].is_null(),
        "no code for a nameserver change"
    );
    assert_eq!(app.count(entities::transfer_code::Entity).await, 0);
    let live = document::Entity::find()
        .filter(document::Column::WrappedKey.is_not_null())
        .all(app.db())
        .await
        .unwrap();
    assert!(live.is_empty(), "documents are destroyed on approval");
    assert_eq!(
        app.audit_details("nameservers_set").await,
        ["ns1.new-host.ch ns2.new-host.ch ns3.new-host.ch"]
    );
    let tracking = app.page_text(&format!("/track/{token}")).await;
    assert!(
        tracking.contains("The new nameservers were set on"),
        "{tracking}"
    );
}

#[rocket::async_test]
async fn a_failing_registry_leaves_the_nameserver_change_in_review() {
    let app = TestApp::start_for_staff(|s| {
        s.registry_command = Some("cat > /dev/null; echo 'zone locked' >&2; exit 2".into());
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", true).await;
    let (id, token) = app
        .submit_by_api(nameserver_change("ns1.new.ch ns2.new.ch"))
        .await;
    let alice = app.sign_in("alice").await;
    let refused = app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    assert!(refused.into_string().await.unwrap().contains("zone locked"));
    assert_eq!(app.status_by_api(id, &token).await["status"], "submitted");
}

#[rocket::async_test]
async fn bad_nameserver_lists_and_hosts_without_a_registry_command_change_nothing() {
    let registry = TestRegistry::start(Way::Command, &OLD_HOSTS).await;
    let app = app_with_registry(&registry).await;
    for (hosts, words) in [
        ("ns1.new-host.ch", "at least 2 nameservers"),
        ("ns1.new.ch ns1.NEW.ch", "listed twice"),
        ("ns1.new.ch not_a_host!", "is not a host name"),
    ] {
        let response = app
            .post_multipart("/api/v1/requests", nameserver_change(hosts))
            .await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{hosts}");
        let body: serde_json::Value = response.into_json().await.unwrap();
        let said = body["errors"]["nameservers"].as_str().unwrap_or_default();
        assert!(said.contains(words), "{hosts}: {body}");
    }
    let odd_kind = valid_submission("example.com", &camera_photo()).text("kind", "dns");
    let response = app.post_multipart("/api/v1/requests", odd_kind).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert_eq!(app.count(request::Entity).await, 0);

    let without_registry = TestApp::start_with(|_| {}).await;
    without_registry
        .add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let response = without_registry
        .post_multipart(
            "/api/v1/requests",
            nameserver_change("ns1.new.ch ns2.new.ch"),
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert!(body["errors"]["kind"]
        .as_str()
        .unwrap()
        .contains("cannot be requested online"));
    let form = without_registry.page_text("/").await;
    assert!(
        !form.contains("name=\"nameservers\""),
        "the form offers only what works"
    );
    assert!(app.page_text("/").await.contains("name=\"nameservers\""));
}

fn asking_the_holder() -> Multipart {
    Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "Rita Agent")
        .text("email", "rita@agency.example")
        .text("relation", "representative")
        .text("holder_verifies", "yes")
        .text("holder_name", "Anna Muster")
        .text("holder_email", "anna@example.com")
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo())
}

/// An app that mails (the holder's link goes only by mail) through a real SMTP server on
/// loopback, with the sample domain and an admin; `None` when the mail tests are skipped.
async fn holder_app() -> Option<(TestApp, SmtpSink)> {
    if !smtp::available() {
        return None;
    }
    let sink = SmtpSink::start(free_port());
    let port = sink.port;
    let app = TestApp::start_for_staff(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
            "smtp://127.0.0.1:{port}"
        )));
        s.send_mail_in_background = false;
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", true).await;
    Some((app, sink))
}

/// Submits a representative's request that the holder verifies; returns the request id,
/// the requester's token and the holder's link path, read from the mail the holder got.
async fn submit_for_holder(app: &TestApp, sink: &SmtpSink) -> (uuid::Uuid, String, String) {
    let response = app
        .post_multipart("/api/v1/requests", asking_the_holder())
        .await;
    assert_eq!(response.status(), Status::Created);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert_eq!(body["status"], "awaiting_holder");
    assert!(body["holder_link"].is_null(), "never to the requester");
    transfer_desk::mail::deliver_due(app.services().mailer(), chrono::Utc::now())
        .await
        .unwrap();
    let mail = sink
        .messages()
        .into_iter()
        .filter_map(|raw| {
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            let to = message.to()?.first()?.address()?.to_owned();
            let text = message.body_text(0)?.into_owned();
            (to == "anna@example.com").then_some(text)
        })
        .find(|text| text.contains("/holder/"))
        .expect("the holder's mail");
    let start = mail.find("/holder/").unwrap();
    let path: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
        .collect();
    (
        body["request_id"].as_str().unwrap().parse().unwrap(),
        body["tracking_token"].as_str().unwrap().to_owned(),
        path,
    )
}

#[rocket::async_test]
async fn the_holder_confirms_with_their_own_document_and_the_reviewer_sees_both() {
    let Some((app, sink)) = holder_app().await else {
        return;
    };
    let (id, token, holder_path) = submit_for_holder(&app, &sink).await;
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "awaiting_holder");
    assert_eq!(status["holder_name"], "Anna Muster");
    assert!(app
        .page_text(&format!("/track/{token}"))
        .await
        .contains("waiting for the holder"));

    let alice = app.sign_in("alice").await;
    let claim = app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    assert_ne!(
        claim.status(),
        Status::SeeOther,
        "nothing to review before the holder answers"
    );

    let holder_page = app.page_text(&holder_path).await;
    assert!(
        holder_page.contains("Rita Agent asks to act for you"),
        "{holder_page}"
    );
    assert!(holder_page.contains("example.com"));
    let csrf = app.page_token(&holder_path).await;
    let missing = app
        .post_public_multipart(&format!("{holder_path}/confirm"), &csrf, Multipart::new())
        .await;
    assert_eq!(missing.0, Status::UnprocessableEntity);
    assert!(
        missing.1.contains("Please add a photo of the front"),
        "{}",
        missing.1
    );
    let unknown_kind = Multipart::new()
        .text("holder_id_document_type", "library card")
        .file("holder_id_front", "mine.jpg", "image/jpeg", &camera_photo());
    let refused = app
        .post_public_multipart(&format!("{holder_path}/confirm"), &csrf, unknown_kind)
        .await;
    assert_eq!(refused.0, Status::UnprocessableEntity);
    assert!(
        refused
            .1
            .contains("Choose passport, identity card or other document."),
        "{}",
        refused.1
    );
    let confirm = Multipart::new()
        .text("holder_id_document_type", "passport")
        .file("holder_id_front", "mine.jpg", "image/jpeg", &camera_photo());
    let confirmed = app
        .post_public_multipart(&format!("{holder_path}/confirm"), &csrf, confirm)
        .await;
    assert_eq!(confirmed.0, Status::SeeOther);

    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "submitted");
    let events: Vec<&str> = status["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["submitted", "holder_confirmed"]);
    assert!(app
        .page_text(&holder_path)
        .await
        .contains("You confirmed on"));

    let replay = Multipart::new().file(
        "holder_id_front",
        "again.jpg",
        "image/jpeg",
        &camera_photo(),
    );
    let replayed = app
        .post_public_multipart(&format!("{holder_path}/confirm"), &csrf, replay)
        .await;
    assert_eq!(
        replayed.0,
        Status::UnprocessableEntity,
        "a link answers once"
    );

    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("The holder, verifying directly"));
    assert!(
        page.contains("document: Passport"),
        "what the holder said: {page}"
    );
    assert!(
        page.contains("holder&#x27;s identity document (front)")
            || page.contains("holder's identity document (front)")
    );
    assert!(page.contains("identity document (front)"));
    let kinds: Vec<_> = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds.len(),
        2,
        "the requester's and the holder's: {kinds:?}"
    );
    let approved = app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);
    assert!(app.status_by_api(id, &token).await["transfer_code"].is_string());
}

#[rocket::async_test]
async fn a_holder_who_refuses_rejects_the_request_with_their_reason() {
    let Some((app, sink)) = holder_app().await else {
        return;
    };
    let (id, token, holder_path) = submit_for_holder(&app, &sink).await;
    let csrf = app.page_token(&holder_path).await;
    let wrong_token = app
        .post_forged_form(
            &format!("{holder_path}/refuse"),
            &csrf,
            "not-the-token",
            &[("reason", "x")],
        )
        .await;
    assert_eq!(wrong_token.0, Status::Forbidden);
    let (status, _) = app
        .post_public_form(
            &format!("{holder_path}/refuse"),
            &csrf,
            &[("reason", "I never asked <anyone> for this.")],
        )
        .await;
    assert_eq!(status, Status::SeeOther);
    let seen = app.status_by_api(id, &token).await;
    assert_eq!(seen["status"], "rejected");
    assert!(seen["reason"]
        .as_str()
        .unwrap()
        .contains("I never asked <anyone> for this."));
    let tracking = app.page_text(&format!("/track/{token}")).await;
    assert!(tracking.contains("I never asked &lt;anyone&gt; for this."));
    assert!(app.page_text(&holder_path).await.contains("You refused"));
    let live = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .filter(document::Column::WrappedKey.is_not_null())
        .all(app.db())
        .await
        .unwrap();
    assert!(live.is_empty(), "the requester's documents are destroyed");
    let again = app
        .post_public_form(&format!("{holder_path}/refuse"), &csrf, &[("reason", "")])
        .await;
    assert_eq!(again.0, Status::UnprocessableEntity);
    assert_eq!(app.audit_details("holder_refused").await.len(), 1);
}

#[rocket::async_test]
async fn a_silent_holder_lets_the_request_expire_when_the_link_ends() {
    let Some((app, sink)) = holder_app().await else {
        return;
    };
    let (id, token, holder_path) = submit_for_holder(&app, &sink).await;
    let report = sweep::sweep(app.services(), chrono::Utc::now()).await;
    assert_eq!(report.requests_expired, 0, "the link is still valid");
    let after_a_week =
        chrono::Utc::now() + chrono::Duration::days(7) + chrono::Duration::minutes(1);
    let report = sweep::sweep(app.services(), after_a_week).await;
    assert_eq!(report.requests_expired, 1);
    let seen = app.status_by_api(id, &token).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["reason"], "The holder did not answer within 7 days.");
    assert!(app
        .page_text(&holder_path)
        .await
        .contains("can no longer be used"));
}

#[rocket::async_test]
async fn only_a_representative_asks_the_holder_and_the_form_keeps_what_was_typed() {
    let app = TestApp::start_with(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
            "smtp://127.0.0.1:{}",
            free_port()
        )))
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    // The API has no hidden fields: a holder who asks the holder is told why.
    let holder_asking = Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "Anna Muster")
        .text("email", "anna@example.org")
        .text("relation", "holder")
        .text("holder_verifies", "yes")
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo());
    let response = app.post_multipart("/api/v1/requests", holder_asking).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let answer: serde_json::Value = response.into_json().await.unwrap();
    assert!(answer["errors"]["holder_verifies"]
        .as_str()
        .unwrap()
        .contains("Only someone acting for the holder can ask the holder"));

    // On the form, a representative who forgot the holder's email gets the form back as a
    // representative's, with the holder's name kept.
    let response = app
        .submit_form(asking_the_holder().text("holder_email", ""))
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let page = response.into_string().await.unwrap();
    assert!(page.contains("value=\"representative\" checked"));
    assert!(page.contains("name=\"holder_verifies\" value=\"yes\" checked"));
    assert!(
        page.contains("value=\"Anna Muster\""),
        "the holder's name is kept"
    );
    assert_eq!(app.count(request::Entity).await, 0);
}

#[rocket::async_test]
async fn the_form_never_shows_the_holders_link_it_goes_to_the_holders_mailbox() {
    let Some((app, sink)) = holder_app().await else {
        return;
    };
    let token = app.page_token("/").await;
    let (content_type, body) = asking_the_holder().text("csrf_token", &token).finish();
    let response = app
        .client
        .post("/requests")
        .header(content_type)
        .private_cookie(rocket::http::Cookie::new("td_csrf", token))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let location = response.headers().get_one("Location").unwrap().to_owned();
    assert!(!location.contains("holder"), "in no URL");
    let first = app.page_text(&location).await;
    assert!(first.contains("waiting for the holder"), "{first}");
    assert!(!first.contains("/holder/"), "never on the requester's page");
    transfer_desk::mail::deliver_due(app.services().mailer(), chrono::Utc::now())
        .await
        .unwrap();
    let to_holder = sink
        .messages()
        .into_iter()
        .filter_map(|raw| {
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            Some(message.body_text(0)?.into_owned())
        })
        .filter(|text| text.contains("/holder/"))
        .count();
    assert_eq!(to_holder, 1, "the holder's mail alone carries it");
}

#[rocket::async_test]
async fn requester_and_reviewers_exchange_messages_kept_in_the_timeline() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let track = format!("/track/{token}");
    let csrf = app.page_token(&track).await;

    let empty = app
        .post_public_form(&format!("{track}/messages"), &csrf, &[("message", "  ")])
        .await;
    assert_eq!(empty.0, Status::UnprocessableEntity);
    assert!(empty.1.contains("Please write your message"));
    let long = "x".repeat(2001);
    let too_long = app
        .post_public_form(&format!("{track}/messages"), &csrf, &[("message", &long)])
        .await;
    assert_eq!(too_long.0, Status::UnprocessableEntity);
    assert!(too_long.1.contains(&long), "what was typed is kept");
    let forged = app
        .post_forged_form(
            &format!("{track}/messages"),
            &csrf,
            "forged",
            &[("message", "hi")],
        )
        .await;
    assert_eq!(forged.0, Status::Forbidden);

    let sent = app
        .post_public_form(
            &format!("{track}/messages"),
            &csrf,
            &[("message", "My mailbox is down: <b>please</b> hurry.")],
        )
        .await;
    assert_eq!(sent.0, Status::SeeOther);
    let alice = app.sign_in("alice").await;
    let queue = app.staff_page(&alice, "/review").await;
    assert!(queue.contains("new message"));
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(
        page.contains("&lt;b&gt;please&lt;&#x2F;b&gt;")
            || page.contains("&lt;b&gt;please&lt;/b&gt;"),
        "shown escaped"
    );
    assert!(page.contains("waits for an answer"));

    let answer = app
        .staff_post(
            &alice,
            review_uri(id, "/messages"),
            &[("message", "We are on it, Anna.")],
        )
        .await;
    assert_eq!(answer.status(), Status::SeeOther);
    let queue = app.staff_page(&alice, "/review").await;
    assert!(!queue.contains("new message"), "answered");
    let tracking = app.page_text(&track).await;
    assert!(tracking.contains("Message from our security staff"));
    assert!(tracking.contains("We are on it, Anna."));
    let audited = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Action.eq("message_sent"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].actor, "alice");
    assert_eq!(
        audited[0].detail, None,
        "the audit trail records who wrote, not what"
    );
}

#[rocket::async_test]
async fn messages_are_erased_with_the_personal_data_after_the_evidence_period() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let track = format!("/track/{token}");
    let csrf = app.page_token(&track).await;
    app.post_public_form(
        &format!("{track}/messages"),
        &csrf,
        &[("message", "Call me on 079 000 00 00")],
    )
    .await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    app.staff_post(
        &alice,
        review_uri(id, "/reject"),
        &[("reason", "Not the holder.")],
    )
    .await;
    request::Entity::update_many()
        .col_expr(
            request::Column::DecidedAt,
            Expr::value(Some(chrono::Utc::now() - chrono::Duration::days(400))),
        )
        .filter(request::Column::Id.eq(id))
        .exec(app.db())
        .await
        .unwrap();
    let report = sweep::sweep(app.services(), chrono::Utc::now()).await;
    assert_eq!(report.personal_data_erased, 1);
    let notes: Vec<Option<String>> = request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(id))
        .filter(request_event::Column::Kind.eq("message_from_requester"))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.note)
        .collect();
    assert_eq!(notes, [None]);
    let refused = app
        .post_public_form(
            &format!("{track}/messages"),
            &csrf,
            &[("message", "hello?")],
        )
        .await;
    assert_eq!(refused.0, Status::NotFound);
}
