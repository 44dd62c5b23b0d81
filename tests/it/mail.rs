//! Mail through a real SMTP server on loopback: what each mail says, in whose language,
//! that nothing secret is in it, retries while the server is down, the registrant's
//! "this was not me", and the outbox admins read without SMTP.

use crate::common::server::free_port;
use crate::common::smtp::{available, SmtpSink};
use crate::common::*;
use entities::outbox_mail;
use mail_parser::MessageParser;
use rocket::http::Status;
use sea_orm::EntityTrait;
use transfer_desk::mail::deliver_due;

/// A staff app mailing through `port`, with the sample domain and an admin.
async fn mailing_app(port: u16, adjust: impl FnOnce(&mut transfer_desk::Settings)) -> TestApp {
    let app = TestApp::start_for_staff(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
            "smtp://127.0.0.1:{port}"
        )));
        s.mail_from = "Transfer Desk <desk@host.example>".into();
        // The tests send the outbox themselves, to step through retries.
        s.send_mail_in_background = false;
        adjust(s);
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", true).await;
    app
}

/// Submits by the API with a browser language; returns id and tracking token.
struct Received {
    to: String,
    subject: String,
    language: String,
    text: String,
    html: String,
    raw: String,
}

fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).expect("a mail");
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    Received {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        language: message
            .header_raw("Content-Language")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

async fn send_now(app: &TestApp) -> transfer_desk::mail::DeliveryReport {
    deliver_due(app.services().mailer(), chrono::Utc::now())
        .await
        .unwrap()
}

#[rocket::async_test]
async fn mails_go_out_in_the_requesters_language_and_the_registrant_can_cancel_the_code() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let app = mailing_app(sink.port, |_| {}).await;
    let (id, token) = app
        .submit_by_api_in(
            valid_submission("example.com", &camera_photo()),
            Some("de-CH,de;q=0.9"),
        )
        .await;
    assert_eq!(send_now(&app).await.sent, 1);
    let receipt = parse(&sink.messages()[0]);
    assert_eq!(receipt.to, "anna@example.org");
    assert_eq!(
        receipt.subject,
        "Wir haben Ihren Antrag für example.com erhalten"
    );
    assert_eq!(receipt.language, "de");
    assert!(receipt.raw.contains("multipart/alternative"));
    assert!(
        receipt.raw.contains("<desk@host.example>"),
        "{}",
        receipt.raw
    );
    assert!(
        receipt.text.contains(&format!("/track/{token}")),
        "{}",
        receipt.text
    );
    assert!(receipt.html.contains(&format!("/track/{token}")));
    let stored = outbox_mail::Entity::find().all(app.db()).await.unwrap();
    assert!(
        stored[0].sealed_link.is_none(),
        "the link is erased once sent"
    );
    assert!(
        !stored[0].body.contains(&token),
        "the outbox never holds the token in clear"
    );

    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, format!("/review/requests/{id}/claim"), &[])
        .await;
    let approved = app
        .staff_post(&alice, format!("/review/requests/{id}/approve"), &[])
        .await;
    assert_eq!(approved.status(), Status::SeeOther);
    let code = app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(send_now(&app).await.sent, 2);
    let mails: Vec<Received> = sink.messages().iter().map(|m| parse(m)).collect();
    for mail in &mails {
        assert!(
            !mail.raw.contains(&code),
            "never the code: {}",
            mail.subject
        );
    }
    let decided = mails
        .iter()
        .find(|m| m.to == "anna@example.org" && m.subject != receipt.subject)
        .unwrap();
    assert!(decided.text.contains("wurde bewilligt"), "{}", decided.text);
    assert!(!decided.text.contains(&token), "later mails carry no link");
    let notice = mails
        .iter()
        .find(|m| m.to == "anna@example.com")
        .expect("the registrant is told");
    assert_eq!(
        notice.language, "en",
        "the registrant's language (the portfolio names none: the default), not the requester's"
    );
    assert!(
        notice.text.contains("“Anna Muster”"),
        "the requester's name as typed, quoted"
    );
    assert!(notice.subject.contains("example.com"));
    let start = notice
        .text
        .find("/objection/")
        .expect("a this-was-not-me link");
    let objection_path: String = notice.text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();

    let csrf = app.page_token(&objection_path).await;
    let (confirmed, _) = app.post_public_form(&objection_path, &csrf, &[]).await;
    assert_eq!(confirmed, Status::SeeOther);
    let status = app.status_by_api(id, &token).await;
    assert!(
        status["transfer_code"].is_null(),
        "the code is cancelled at once"
    );
    let events = app.timeline_kinds(id).await;
    assert!(events.contains(&"objected".to_owned()), "{events:?}");
    assert_eq!(app.audit_details("objection").await.len(), 1);
    let queue = app.staff_page(&alice, "/review").await;
    assert!(queue.contains("objection"), "at the top of the queue");
    let again = app.client.get(objection_path).dispatch().await;
    assert!(again
        .into_string()
        .await
        .unwrap()
        .contains("The code is cancelled"));
    let handled = app
        .staff_post(
            &alice,
            format!("/review/requests/{id}/objection-handled"),
            &[],
        )
        .await;
    assert_eq!(handled.status(), Status::SeeOther);
    let queue = app.staff_page(&alice, "/review").await;
    assert!(!queue.contains("example.com"), "dealt with: off the queue");
}

#[rocket::async_test]
async fn the_outbox_retries_while_the_mail_server_is_down_and_delivers_when_it_is_back() {
    if !available() {
        return;
    }
    let port = free_port();
    let app = mailing_app(port, |_| {}).await;
    app.submit_by_api_in(valid_submission("example.com", &camera_photo()), Some("fr"))
        .await;
    let report = send_now(&app).await;
    assert_eq!((report.sent, report.failed), (0, 1));
    let waiting = outbox_mail::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting.attempts, 1);
    assert!(waiting.last_error.is_some());
    assert!(
        waiting.sealed_link.is_some(),
        "kept sealed until it can be sent"
    );
    assert!(waiting.next_attempt_at > chrono::Utc::now());

    let sink = SmtpSink::start(port);
    assert_eq!(send_now(&app).await.sent, 0, "not before the pause ends");
    let later = chrono::Utc::now() + chrono::Duration::minutes(2);
    assert_eq!(
        deliver_due(app.services().mailer(), later)
            .await
            .unwrap()
            .sent,
        1
    );
    let receipt = parse(&sink.messages()[0]);
    assert_eq!(
        receipt.subject,
        "Nous avons reçu votre demande pour example.com"
    );
    assert_eq!(receipt.language, "fr");
    assert_eq!(
        deliver_due(app.services().mailer(), later)
            .await
            .unwrap()
            .sent,
        0,
        "sent once"
    );
}

#[rocket::async_test]
async fn the_holder_gets_their_link_by_mail_and_the_requester_never_sees_it() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let app = mailing_app(sink.port, |_| {}).await;
    let form = Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "Rita Agent")
        .text("email", "rita@agency.example")
        .text("relation", "representative")
        .text("holder_verifies", "yes")
        .text("holder_name", "Anna Muster")
        .text("holder_email", "anna@example.com")
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo());
    let (content_type, body) = form.finish();
    let response = app
        .client
        .post("/api/v1/requests")
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    let answer: serde_json::Value = response.into_json().await.unwrap();
    assert!(
        answer["holder_link"].is_null(),
        "with mail, the link goes to the holder alone"
    );
    assert_eq!(send_now(&app).await.sent, 2);
    let mails: Vec<Received> = sink.messages().iter().map(|m| parse(m)).collect();
    let holder = mails.iter().find(|m| m.to == "anna@example.com").unwrap();
    assert!(holder.text.contains("/holder/"), "{}", holder.text);
    assert!(
        !holder.subject.contains("Rita Agent"),
        "no requester text in a subject"
    );
    assert!(holder.text.contains("“Rita Agent”"), "quoted in the body");
    let receipt = mails
        .iter()
        .find(|m| m.to == "rita@agency.example")
        .unwrap();
    assert!(!receipt.text.contains("/holder/"));
}

#[rocket::async_test]
async fn a_reviewers_message_is_announced_by_mail_without_its_text() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let app = mailing_app(sink.port, |s| {
        s.staff_mail = Some("security@host.example".into())
    })
    .await;
    let (id, token) = app
        .submit_by_api_in(valid_submission("example.com", &camera_photo()), Some("it"))
        .await;
    let csrf = app.page_token(&format!("/track/{token}")).await;
    app.post_public_form(
        &format!("/track/{token}/messages"),
        &csrf,
        &[("message", "Secret plans: call me")],
    )
    .await;
    let alice = app.sign_in("alice").await;
    app.staff_post(
        &alice,
        format!("/review/requests/{id}/messages"),
        &[("message", "Private answer")],
    )
    .await;
    let sent = send_now(&app).await.sent;
    // Besides the audit log's checkpoint, which the start-up sweep may have signed and
    // mailed to the staff address too.
    let mails: Vec<Received> = sink
        .messages()
        .iter()
        .map(|m| parse(m))
        .filter(|m| !m.text.contains("The audit log signed this checkpoint"))
        .collect();
    assert_eq!(mails.len(), 3, "{sent} sent");
    let staff = mails
        .iter()
        .find(|m| m.to == "security@host.example")
        .unwrap();
    assert!(staff.text.contains(&format!("/review/requests/{id}")));
    assert!(!staff.raw.contains("Secret plans"));
    let announced = mails
        .iter()
        .find(|m| m.to == "anna@example.org" && m.subject.contains("messaggio"))
        .expect("the requester is told in Italian");
    assert!(!announced.raw.contains("Private answer"));
}

#[rocket::async_test]
async fn without_smtp_admins_read_what_would_have_been_sent_and_never_a_link() {
    let app = TestApp::with_staff(|_| {}).await;
    let (_, token) = app.submit_example().await;
    let row = outbox_mail::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.sealed_link.is_none(), "no link is kept without SMTP");
    assert!(row.failed_at.is_some());
    let alice = app.sign_in("alice").await;
    let page = app
        .staff_page(&alice, "/review/outbox")
        .await
        .replace("&#x27;", "'");
    assert!(
        page.contains("We have received your request for example.com"),
        "{page}"
    );
    assert!(page.contains("anna@example.org"));
    assert!(page.contains("not sent"));
    assert!(page.contains("(private link, not shown)"));
    assert!(!page.contains(&token));
    let bob = app.sign_in("bob").await;
    let refused = app.staff_get(&bob, "/review/outbox".into()).await;
    assert_ne!(refused.status(), Status::Ok, "admins only");
}

#[rocket::async_test]
async fn an_objection_window_shows_the_code_only_once_it_has_passed() {
    let app = TestApp::with_staff(|s| s.objection_hours = 48).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, format!("/review/requests/{id}/claim"), &[])
        .await;
    app.staff_post(&alice, format!("/review/requests/{id}/approve"), &[])
        .await;
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    assert!(
        status["transfer_code"].is_null(),
        "not before the window ends"
    );
    let page = app.page(format!("/track/{token}")).await;
    assert!(page.contains("will be shown here from"), "{page}");
    entities::transfer_code::Entity::update_many()
        .col_expr(
            entities::transfer_code::Column::IssuedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(49)),
        )
        .exec(app.db())
        .await
        .unwrap();
    assert!(app.status_by_api(id, &token).await["transfer_code"].is_string());
}

#[rocket::async_test]
async fn the_service_sends_a_new_mail_by_itself_within_seconds() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let app = mailing_app(sink.port, |s| s.send_mail_in_background = true).await;
    app.submit_by_api_in(valid_submission("example.com", &camera_photo()), Some("en"))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while sink.messages().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no mail within 15 seconds"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let receipt = parse(&sink.messages()[0]);
    assert_eq!(
        receipt.subject,
        "We have received your request for example.com"
    );
}
