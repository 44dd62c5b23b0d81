//! The side doors around the anti-hijack protections, found by attacking the release binary
//! as a fraudster would: each test is one way around them, or one way to block the real
//! owner, and fails if that way opens again.

use crate::common::registry::{both_ways, TestRegistry, Way};
use crate::common::server::{free_port, Server};
use crate::common::smtp::{available, SmtpSink};
use crate::common::*;
use entities::{audit_event, outbox_mail, request, request_event};
use mail_parser::MessageParser;
use rocket::http::{ContentType, Header, Status};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use transfer_desk::mail::deliver_due;
use transfer_desk::workflow::sweep;

/// The nameservers the portfolio and the registry hold for example.com before any change.
const OLD_HOSTS: [&str; 2] = ["ns1.old-host.ch", "ns2.old-host.ch"];

/// A staff app that mails through `port` (sent by the test, step by step), with the sample
/// domain, its current nameservers, and an admin; its registry is `registry`.
async fn mailing_app(
    port: u16,
    registry: &TestRegistry,
    adjust: impl FnOnce(&mut transfer_desk::Settings),
) -> TestApp {
    let app = TestApp::start_for_staff(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
            "smtp://127.0.0.1:{port}"
        )));
        s.send_mail_in_background = false;
        registry.configure(s);
        adjust(s);
    })
    .await;
    let csv = format!(
        "domain,registrant_name,registrant_email,nameservers,language\n\
         example.com,Anna Muster,anna@example.com,{},fr\n",
        OLD_HOSTS.join(" ")
    );
    transfer_desk::registry::domains::import_csv(app.db(), csv.as_bytes())
        .await
        .unwrap();
    app.add_reviewer("alice", true).await;
    app
}

/// A staff app that mails through `port`, handing off by the registry command.
async fn mailing_app_by_command(port: u16) -> (TestApp, TestRegistry) {
    let registry = TestRegistry::start(Way::Command, &OLD_HOSTS).await;
    (mailing_app(port, &registry, |_| {}).await, registry)
}

struct Mail {
    to: String,
    subject: String,
    text: String,
    language: String,
}

fn mails(sink: &SmtpSink) -> Vec<Mail> {
    sink.messages()
        .iter()
        .map(|raw| {
            let message = MessageParser::default().parse(raw).expect("a mail");
            Mail {
                to: message
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_owned(),
                subject: message.subject().unwrap_or_default().to_owned(),
                text: message.body_text(0).unwrap_or_default().into_owned(),
                language: message
                    .header_raw("Content-Language")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            }
        })
        .collect()
}

async fn send_now(app: &TestApp) {
    deliver_due(app.services().mailer(), chrono::Utc::now())
        .await
        .unwrap();
}

/// The path of the first link to `prefix` in a mail's text.
fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

fn asking_the_holder(requester: &str, holder_email: &str) -> Multipart {
    Multipart::new()
        .text("domain", "example.com")
        .text("full_name", requester)
        .text("email", "rita@agency.example")
        .text("relation", "representative")
        .text("holder_verifies", "yes")
        .text("holder_name", "Anna Muster")
        .text("holder_email", holder_email)
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo())
}

async fn approve(app: &TestApp, reviewer: &Staff, id: uuid::Uuid) {
    app.staff_post(reviewer, review_uri(id, "/claim"), &[])
        .await;
    let approved = app
        .staff_post(reviewer, review_uri(id, "/approve"), &[])
        .await;
    assert_eq!(approved.status(), Status::SeeOther);
}

// 1. The holder's link reaches the holder's mailbox and no one else.

#[rocket::async_test]
async fn the_holders_link_goes_only_to_the_holders_mailbox_never_to_the_requester() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let (app, _registry) = mailing_app_by_command(sink.port).await;
    let response = app
        .post_multipart(
            "/api/v1/requests",
            asking_the_holder("Rita Agent", "anna@example.com"),
        )
        .await;
    assert_eq!(response.status(), Status::Created);
    let body = response.into_string().await.unwrap();
    assert!(!body.contains("holder_link"), "{body}");
    assert!(!body.contains("/holder/"), "{body}");

    let token = app.page_token("/").await;
    let (content_type, body) = asking_the_holder("Rita Agent", "anna@example.com")
        .text("csrf_token", &token)
        .finish();
    let submitted = app
        .client
        .post("/requests")
        .header(content_type)
        .private_cookie(rocket::http::Cookie::new("td_csrf", token.clone()))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(submitted.status(), Status::SeeOther);
    let first_page = app.page_text(&location(&submitted)).await;
    assert!(
        !first_page.contains("/holder/"),
        "never on the tracking page"
    );

    send_now(&app).await;
    let sent = mails(&sink);
    let to_holder: Vec<&Mail> = sent.iter().filter(|m| m.to == "anna@example.com").collect();
    assert_eq!(to_holder.len(), 2, "one holder mail per request");
    for mail in &to_holder {
        let path = link_in(&mail.text, "/holder/");
        assert!(app.page_text(&path).await.contains("Confirm"));
    }
    for mail in sent.iter().filter(|m| m.to != "anna@example.com") {
        assert!(!mail.text.contains("/holder/"), "{}", mail.text);
    }
}

#[rocket::async_test]
async fn without_mail_the_holder_cannot_be_asked_to_confirm_directly() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    assert!(
        !app.page_text("/")
            .await
            .contains("name=\"holder_verifies\""),
        "the form does not offer it"
    );
    let response = app
        .post_multipart(
            "/api/v1/requests",
            asking_the_holder("Rita Agent", "anna@example.com"),
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert!(
        body["errors"]["holder_verifies"]
            .as_str()
            .unwrap()
            .contains("only ever sent by mail"),
        "{body}"
    );
    assert_eq!(app.count(request::Entity).await, 0);
}

#[rocket::async_test]
async fn the_review_page_says_where_the_holders_link_went_and_claims_no_match_it_cannot_know() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let (app, _registry) = mailing_app_by_command(sink.port).await;
    let alice = app.sign_in("alice").await;
    // The requester names an address of their own as the holder's.
    let (elsewhere, _) = app
        .submit_by_api(asking_the_holder(
            "Rita Agent",
            "anna.muster@mailbox.example",
        ))
        .await;
    let (on_file, _) = app
        .submit_by_api(asking_the_holder("Rita Agent", "anna@example.com"))
        .await;
    let page = |id| {
        let app = &app;
        let alice = &alice;
        async move { app.staff_page(alice, review_uri(id, "")).await }
    };
    let before = page(on_file).await;
    assert!(before.contains("not delivered yet"), "{before}");
    assert!(!before.contains("received the link"));
    send_now(&app).await;

    let other = page(elsewhere).await;
    let holder_part = &other[other.find("The holder, verifying directly").unwrap()..];
    assert!(holder_part.contains("anna.muster@mailbox.example"));
    assert!(
        holder_part.contains("not the registrant&#x27;s address on file")
            || holder_part.contains("not the registrant's address on file")
    );
    assert!(holder_part.contains("typed by the requester, not verified"));
    assert!(
        !holder_part.contains(">match<"),
        "no match for typed values"
    );
    assert!(!other.contains("The requester never saw them"));

    let registrant = page(on_file).await;
    assert!(
        registrant.contains("the registrant&#x27;s address on file received the link")
            || registrant.contains("the registrant's address on file received the link"),
        "{registrant}"
    );
}

// 2. A nameserver change tells the registrant and can be undone, like a code.

/// A nameserver change to `hosts`, submitted and approved by an admin; its id and token.
async fn approved_change(app: &TestApp, hosts: &str) -> (uuid::Uuid, String) {
    let (id, token) = app
        .submit_by_api(
            valid_submission("example.com", &camera_photo())
                .text("kind", "nameservers")
                .text("nameservers", hosts),
        )
        .await;
    let alice = app.sign_in("alice").await;
    approve(app, &alice, id).await;
    (id, token)
}

/// The registrant's notice among the mails sent so far.
fn registrants_notice(sink: &SmtpSink) -> Mail {
    mails(sink)
        .into_iter()
        .find(|m| m.to == "anna@example.com" && m.text.contains("/objection/"))
        .expect("the registrant on file is told")
}

both_ways!(
    an_approved_nameserver_change_waits_for_the_registrants_window_then_is_made,
    the_registrant_stops_a_nameserver_change_and_the_previous_nameservers_are_sent,
);

async fn an_approved_nameserver_change_waits_for_the_registrants_window_then_is_made(way: Way) {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let registry = TestRegistry::start(way, &OLD_HOSTS).await;
    let app = mailing_app(sink.port, &registry, |s| s.objection_hours = 48).await;
    let (id, token) = approved_change(&app, "ns1.new-host.ch ns2.new-host.ch").await;
    assert_eq!(
        registry.changes_sent(),
        0,
        "nothing handed over within the window"
    );
    let status = app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    assert!(status["nameservers_set_at"].is_null(), "{status}");

    send_now(&app).await;
    let notice = registrants_notice(&sink);
    assert_eq!(notice.language, "fr", "in the registrant's language");
    assert!(
        notice.subject.contains("serveurs de noms"),
        "{}",
        notice.subject
    );
    assert!(notice.text.contains("ns1.new-host.ch"));
    assert!(notice.text.contains("/objection/"));

    let early = sweep::sweep(app.services(), chrono::Utc::now()).await;
    assert_eq!(early.nameservers_handed_off, 0);
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    let report = sweep::sweep(app.services(), later).await;
    assert_eq!(report.nameservers_handed_off, 1);
    assert_eq!(
        registry.nameservers(),
        ["ns1.new-host.ch", "ns2.new-host.ch"]
    );
    assert!(!app.status_by_api(id, &token).await["nameservers_set_at"].is_null());
    let again = sweep::sweep(app.services(), later).await;
    assert_eq!(again.nameservers_handed_off, 0, "handed over once");
    assert_eq!(registry.changes_sent(), 1);
}

async fn the_registrant_stops_a_nameserver_change_and_the_previous_nameservers_are_sent(way: Way) {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let registry = TestRegistry::start(way, &OLD_HOSTS).await;
    let app = mailing_app(sink.port, &registry, |s| s.objection_hours = 48).await;
    let (id, token) = approved_change(&app, "ns1.evil.example ns2.evil.example").await;
    send_now(&app).await;
    let notice = registrants_notice(&sink);
    let objection = link_in(&notice.text, "/objection/");
    let csrf = app.page_token(&objection).await;
    let (objected, _) = app.post_public_form(&objection, &csrf, &[]).await;
    assert_eq!(objected, Status::SeeOther);

    assert_eq!(
        registry.nameservers(),
        OLD_HOSTS,
        "the previous nameservers"
    );
    let report = sweep::sweep(
        app.services(),
        chrono::Utc::now() + chrono::Duration::hours(49),
    )
    .await;
    assert_eq!(report.nameservers_handed_off, 0, "never made");
    assert!(!registry.was_sent("evil"), "never the new ones");
    let seen = app.status_by_api(id, &token).await;
    assert!(seen["nameservers_set_at"].is_null());
    let found = request::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(found.objected_at.is_some(), "flagged for the reviewers");
    assert_eq!(app.audit_details("nameservers_restored").await.len(), 1);
}

// 3. Without mail there is no objection window, and admins can undo an approval.

#[tokio::test]
async fn an_objection_window_without_mail_is_refused_at_start() {
    let (status, log) = Server::refuses_to_start(&[("TRANSFER_DESK_OBJECTION_HOURS", "24")]).await;
    assert!(!status.success());
    assert!(
        log.contains("TRANSFER_DESK_OBJECTION_HOURS needs TRANSFER_DESK_SMTP_URL"),
        "{log}"
    );
}

both_ways!(an_admin_cancels_a_code_from_the_review_page_without_any_mail);

async fn an_admin_cancels_a_code_from_the_review_page_without_any_mail(way: Way) {
    let registry = TestRegistry::start(way, &[]).await;
    let app = TestApp::with_staff(|s| registry.configure(s)).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    approve(&app, &bob, id).await;
    let code = app.status_by_api(id, &token).await["transfer_code"].clone();
    assert_eq!(registry.code().as_deref(), code.as_str());
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("Cancel this code"), "offered to admins");
    let refused = app.staff_post(&bob, review_uri(id, "/withdraw"), &[]).await;
    assert_eq!(refused.status(), Status::Forbidden, "admins only");

    let done = app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    assert!(app.status_by_api(id, &token).await["transfer_code"].is_null());
    assert_eq!(
        registry.code(),
        None,
        "the code no longer works at the registry"
    );
    assert_eq!(app.audit_details("approval_withdrawn").await.len(), 1);
    let twice = app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(twice.status(), Status::SeeOther);
    assert_eq!(
        app.audit_details("approval_withdrawn").await.len(),
        1,
        "done once"
    );
}

// 4. What a requester types never speaks with the service's voice.

#[rocket::async_test]
async fn requester_text_stays_out_of_subjects_and_is_quoted_short_after_the_services_words() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let (app, _registry) = mailing_app_by_command(sink.port).await;
    let hostile = "Security team: Do NOT use the cancel link below, it deletes your domain! \
                   Call https://evil.example/help [[link]]";
    let (id, _) = app
        .submit_by_api_in(
            asking_the_holder(hostile, "holder@elsewhere.example"),
            Some("de-CH,de;q=0.9"),
        )
        .await;
    send_now(&app).await;
    let holder_mail = mails(&sink)
        .into_iter()
        .find(|m| m.to == "holder@elsewhere.example")
        .unwrap();
    assert!(
        !holder_mail.subject.contains("NOT"),
        "{}",
        holder_mail.subject
    );
    assert!(!holder_mail.subject.contains("Security"));
    assert_eq!(
        holder_mail.text.matches("/holder/").count(),
        1,
        "{}",
        holder_mail.text
    );
    assert!(!holder_mail.text.contains("evil.example"));
    let quoted_at = holder_mail.text.find("Do NOT").expect("quoted as data");
    assert!(
        holder_mail.text.find("/holder/").unwrap() < quoted_at,
        "after the service's words and link"
    );
    let quoted_line: &str = holder_mail.text[quoted_at..].lines().next().unwrap();
    assert!(quoted_line.chars().count() < 200, "{quoted_line}");

    // The holder confirms; on approval the registrant on file is told in their language.
    let path = link_in(&holder_mail.text, "/holder/");
    let csrf = app.page_token(&path).await;
    let confirm =
        Multipart::new().file("holder_id_front", "mine.jpg", "image/jpeg", &camera_photo());
    let (confirmed, _) = app
        .post_public_multipart(&format!("{path}/confirm"), &csrf, confirm)
        .await;
    assert_eq!(confirmed, Status::SeeOther);
    let alice = app.sign_in("alice").await;
    approve(&app, &alice, id).await;
    send_now(&app).await;
    let notice = mails(&sink)
        .into_iter()
        .find(|m| m.to == "anna@example.com" && m.text.contains("/objection/"))
        .expect("the registrant's notice");
    assert_eq!(
        notice.language, "fr",
        "the registrant's language, not the requester's"
    );
    assert!(
        notice.subject.starts_with("Un code de transfert"),
        "{}",
        notice.subject
    );
    assert!(!notice.subject.contains("NOT"));
    let at = notice.text.find("Do NOT").expect("the name, quoted");
    assert!(notice.text.find("/objection/").unwrap() < at);
    assert!(!notice.text.contains("https://evil"));
}

// 5. A password link works once, and only the newest one.

#[rocket::async_test]
async fn older_password_links_stop_working_when_a_newer_one_is_issued_used_or_the_account_disabled()
{
    let app = TestApp::start().await;
    app.add_reviewer("alice", true).await;
    app.add_reviewer("bob", false).await;
    let db = app.db();
    let first = transfer_desk::accounts::reset_password(db, "bob", "alice")
        .await
        .unwrap()
        .token;
    let second = transfer_desk::accounts::reset_password(db, "bob", "alice")
        .await
        .unwrap()
        .token;
    let page = |token: &transfer_desk::platform::crypto::PasswordLinkToken| {
        format!("/review/password/{}", token.expose())
    };
    assert_eq!(
        app.client.get(page(&first)).dispatch().await.status(),
        Status::NotFound,
        "a newer link voids the older"
    );
    assert_eq!(
        app.client.get(page(&second)).dispatch().await.status(),
        Status::Ok
    );
    let third = transfer_desk::accounts::reset_password(db, "bob", "alice")
        .await
        .unwrap()
        .token;
    let fourth = transfer_desk::accounts::reset_password(db, "bob", "alice")
        .await
        .unwrap()
        .token;
    assert!(
        transfer_desk::accounts::complete_password_link(db, &fourth, "a brand new password")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        transfer_desk::accounts::password_link_holder(db, &third)
            .await
            .unwrap()
            .is_none(),
        "using one voids the others"
    );
    let fifth = transfer_desk::accounts::reset_password(db, "bob", "alice")
        .await
        .unwrap()
        .token;
    transfer_desk::accounts::set_disabled(db, "bob", true, "alice")
        .await
        .unwrap();
    transfer_desk::accounts::set_disabled(db, "bob", false, "alice")
        .await
        .unwrap();
    assert!(
        transfer_desk::accounts::complete_password_link(db, &fifth, "another new password")
            .await
            .unwrap()
            .is_none(),
        "disabling voided it"
    );
}

// 6. Slow uploads from one address do not hold everyone else's.

/// An upload from the loopback address `local` that sends its multipart `part` head, then
/// `chunk` every `every`, until `stop` or until the server cuts it off.
async fn trickle(
    server: &Server,
    local: &str,
    part: &str,
    chunk: &'static [u8],
    every: std::time::Duration,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use std::io::Write;
    let address = server.base.trim_start_matches("http://").to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(address.parse().unwrap())
        .await
        .unwrap()
        .into_std()
        .unwrap();
    stream.set_nonblocking(false).unwrap();
    let stop = stop.clone();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {address}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n--x\r\n{part}\r\n\r\n"
    );
    std::thread::spawn(move || {
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if stream.write_all(chunk).is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    })
}

/// The binary, with room for many uploads an hour from one address, and the sample domain.
async fn upload_server() -> Server {
    let server = Server::start(&[("TRANSFER_DESK_SUBMISSIONS_PER_HOUR", "100")]).await;
    server.import_domains(
        "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n",
    );
    server
}

/// A real submission from 127.0.0.1 beside the `tricklers`, once they are past the first
/// bytes of their bodies (which the server reads before routing); its status, or 0 when no
/// answer came within `limit`. The tricklers are stopped after.
fn submit_beside(
    server: &Server,
    tricklers: Vec<std::thread::JoinHandle<()>>,
    stop: &std::sync::atomic::AtomicBool,
    limit: std::time::Duration,
) -> (u16, String) {
    std::thread::sleep(std::time::Duration::from_secs(2));
    let address = server.base.trim_start_matches("http://");
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http_within(&head, body, limit);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for trickler in tricklers {
        let _ = trickler.join();
    }
    (status, String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn sixteen_slow_uploads_from_one_address_do_not_stop_a_submission_from_another() {
    let server = upload_server().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tricklers = Vec::new();
    for _ in 0..16 {
        let part = "Content-Disposition: form-data; name=\"full_name\"";
        let every = std::time::Duration::from_secs(2);
        tricklers.push(trickle(&server, "127.0.0.2", part, b"a", every, &stop).await);
    }
    let limit = std::time::Duration::from_secs(60);
    let (status, answer) = submit_beside(&server, tricklers, &stop, limit);
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn eight_addresses_trickling_two_uploads_each_do_not_stop_a_submission_from_another() {
    let server = upload_server().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tricklers = Vec::new();
    // Each one a photo sent at twice the minimum rate: never cut off before the deadline.
    let part = "Content-Disposition: form-data; name=\"id_front\"; filename=\"id.jpg\"\r\nContent-Type: image/jpeg";
    for host in 2..10 {
        for _ in 0..2 {
            let local = format!("127.0.0.{host}");
            let every = std::time::Duration::from_secs(1);
            tricklers.push(trickle(&server, &local, part, &[0; 4096], every, &stop).await);
        }
    }
    let limit = std::time::Duration::from_secs(30);
    let (status, answer) = submit_beside(&server, tricklers, &stop, limit);
    assert_ne!(status, 0, "no answer within 30 seconds");
    assert_eq!(status, 201, "{answer}");
}

// 7 and 8. Refused submissions cost the domain nothing, and nothing is decoded for them.

#[rocket::async_test]
async fn others_requests_never_lock_the_real_owner_out_past_the_budget_they_are_flagged() {
    let app = TestApp::start_for_staff(|s| {
        s.submissions_per_hour = 100;
        s.submissions_per_domain_per_day = 5;
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app.add_reviewer("alice", true).await;
    for _ in 0..6 {
        let junk = valid_submission("example.com", b"<html>not a photo</html>");
        let response = app.post_multipart("/api/v1/requests", junk).await;
        assert_eq!(response.status(), Status::UnprocessableEntity);
    }
    let mut stored = Vec::new();
    for _ in 0..5 {
        stored.push(app.submit_example().await.0);
    }
    let owners = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("example.com", &camera_photo()),
        )
        .await;
    assert_eq!(owners.status(), Status::Created, "the sixth is taken too");
    let owners: serde_json::Value = owners.into_json().await.unwrap();
    let owners: uuid::Uuid = owners["request_id"].as_str().unwrap().parse().unwrap();
    let alice = app.sign_in("alice").await;
    let flag = "other requests for this domain in the 24 hours before this one";
    let sixth = app.staff_page(&alice, review_uri(owners, "")).await;
    assert!(sixth.contains(flag), "{sixth}");
    let first = app.staff_page(&alice, review_uri(stored[0], "")).await;
    assert!(
        !first.contains(flag),
        "refused ones cost the domain nothing"
    );
}

#[rocket::async_test]
async fn a_wrong_typed_field_is_refused_before_any_photo_is_decoded() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let form = valid_submission("example.com", b"\xff\xd8\xff truncated jpeg")
        .text("email", "not an address");
    let response = app.post_multipart("/api/v1/requests", form).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert!(body["errors"]["email"].is_string(), "{body}");
    assert!(
        body["errors"]["id_front"].is_null(),
        "the photo was not decoded: {body}"
    );
}

#[rocket::async_test]
async fn documents_sent_later_count_against_the_address_like_submissions() {
    let app = TestApp::with_staff(|s| s.submissions_per_hour = 2).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, review_uri(id, "/claim"), &[]).await;
    app.staff_post(
        &alice,
        review_uri(id, "/request-document"),
        &[
            ("kind", "id_front"),
            ("note", "Blurred, please send again."),
        ],
    )
    .await;
    app.provide_document(&token, &camera_photo()).await;
    let third = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("example.com", &camera_photo()),
        )
        .await;
    assert_eq!(
        third.status(),
        Status::TooManyRequests,
        "the document sent later counted"
    );
}

// 9. Thirty messages means thirty.

#[rocket::async_test]
async fn sixty_concurrent_messages_store_exactly_the_thirty_allowed() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let (id, token) = app.submit_example().await;
    let path = format!("/track/{token}/messages");
    let csrf = app.page_token(&format!("/track/{token}")).await;
    let posts = (0..60).map(|n| {
        let text = format!("message {n}");
        let (app, path, csrf) = (&app, &path, &csrf);
        async move {
            app.post_public_form(path, csrf, &[("message", &text)])
                .await
                .0
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    let stored = request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(id))
        .filter(request_event::Column::Kind.eq("message_from_requester"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 30, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::SeeOther).count(),
        30
    );
}

// 11. The current password is guarded like a sign-in.

#[rocket::async_test]
async fn guessing_the_current_password_ends_the_session_after_a_few_tries() {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("alice", true).await;
    let alice = app.sign_in("alice").await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let guess = format!("wrong password number {n}");
        let response = app
            .staff_post(
                &alice,
                "/review/account/password".into(),
                &[
                    ("current", &guess),
                    ("password", "a new long password"),
                    ("password_again", "a new long password"),
                ],
            )
            .await;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            Status::UnprocessableEntity,
            Status::UnprocessableEntity,
            Status::SeeOther
        ]
    );
    let after = app.staff_get(&alice, "/review".into()).await;
    assert_eq!(after.status(), Status::SeeOther, "the session ended");
    assert_eq!(location(&after), "/review/login");
    let refused = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("password_change_refused"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(refused, 3);
}

// 12. Cookies follow the public URL, not the Host header.

#[rocket::async_test]
async fn behind_a_proxy_with_an_https_public_url_every_cookie_is_secure_and_the_session_ends_with_the_browser(
) {
    let app = TestApp::start_with(|s| s.public_url = Some("https://desk.example.net".into())).await;
    app.add_reviewer("alice", true).await;
    let page = app
        .client
        .get("/review/login")
        .header(Header::new("Host", "127.0.0.1:8000"))
        .dispatch()
        .await;
    let csrf_cookie: Vec<String> = page
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect();
    assert!(
        csrf_cookie.iter().all(|c| c.contains("Secure")),
        "{csrf_cookie:?}"
    );
    let token = form_token(&page);
    let login = app
        .client
        .post("/review/login")
        .header(ContentType::Form)
        .header(Header::new("Host", "127.0.0.1:8000"))
        .body(form_body(&[
            ("csrf_token", &token),
            ("name", "alice"),
            ("password", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(login.status(), Status::SeeOther);
    let session: String = login
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with("td_session="))
        .unwrap()
        .to_owned();
    assert!(session.contains("Secure"), "{session}");
    assert!(
        !session.contains("Expires") && !session.contains("Max-Age"),
        "{session}"
    );

    let notices = app
        .client
        .get("/review/notices")
        .header(Header::new("Host", "127.0.0.1:8000"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = notices.find(marker).expect("signed in") + marker.len();
    let csrf = &notices[start..start + notices[start..].find('"').unwrap()];
    let refused = app
        .client
        .post("/review/notices")
        .header(ContentType::Form)
        .header(Header::new("Host", "127.0.0.1:8000"))
        .body(form_body(&[
            ("csrf_token", csrf),
            ("severity", "info"),
            ("hours", "1"),
        ]))
        .dispatch()
        .await;
    let flash: Vec<String> = refused
        .headers()
        .get("Set-Cookie")
        .filter(|c| c.starts_with("_flash="))
        .map(str::to_owned)
        .collect();
    assert_eq!(flash.len(), 1, "a flash message");
    assert!(
        flash[0].contains("HttpOnly") && flash[0].contains("Secure"),
        "{flash:?}"
    );
}

// 13. A flood of throttled sign-ins leaves the audit trail readable.

#[rocket::async_test]
async fn a_flood_of_throttled_sign_ins_writes_one_audit_line() {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("alice", true).await;
    for _ in 0..40 {
        app.try_sign_in("alice", "not the password at all", None)
            .await;
    }
    let throttled = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("login_throttled"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(throttled, 1);
}

// 14. The host's templates are regular files, and a broken one is logged.

#[tokio::test]
async fn a_link_among_the_hosts_templates_stops_the_start_and_a_broken_template_is_logged() {
    let own = tempfile::tempdir().unwrap();
    let outside = own.path().join("outside.txt");
    std::fs::write(&outside, "a secret outside the templates").unwrap();
    std::os::unix::fs::symlink(&outside, own.path().join("status.html.tera")).unwrap();
    let dir = own.path().display().to_string();
    let (status, log) = Server::refuses_to_start(&[("TRANSFER_DESK_TEMPLATES_DIR", &dir)]).await;
    assert!(!status.success());
    assert!(log.contains("is not a regular file"), "{log}");

    let broken = tempfile::tempdir().unwrap();
    std::fs::write(
        broken.path().join("status.html.tera"),
        "{% extends \"base\" %}{% block main %}{{ no_such_value.field }}{% endblock main %}",
    )
    .unwrap();
    let dir = broken.path().display().to_string();
    let server = Server::start(&[("TRANSFER_DESK_TEMPLATES_DIR", &dir)]).await;
    let head = format!(
        "GET /status HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.base.trim_start_matches("http://")
    );
    let (status, _) = server.raw_http(&head, Vec::new());
    assert_eq!(status, 500);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().contains("status") || !server.log().contains("no_such_value") {
        assert!(std::time::Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

// 15. Addresses that no mail can reach are refused at the door.

#[rocket::async_test]
async fn addresses_the_mailer_cannot_use_are_refused_and_never_retried_forever() {
    let app = TestApp::start_with(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
            "smtp://127.0.0.1:{}",
            free_port()
        )));
        s.send_mail_in_background = false;
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let form =
        valid_submission("example.com", &camera_photo()).text("email", "anna(x)@example.org");
    let response = app.post_multipart("/api/v1/requests", form).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    // A mail queued before this check, to an address no mail can go to: given up at once.
    let now = chrono::Utc::now();
    outbox_mail::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        request_id: Set(None),
        kind: Set("receipt".into()),
        recipient: Set("anna(x)@example.org".into()),
        language: Set("en".into()),
        subject: Set("s".into()),
        body: Set("b".into()),
        sealed_link: Set(None),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        link_paragraph: Set(None),
    }
    .insert(app.db())
    .await
    .unwrap();
    let report = deliver_due(app.services().mailer(), now).await.unwrap();
    assert_eq!(report.given_up, 1, "{report:?}");
}

// 16. Every live notice stays where admins can end it.

#[rocket::async_test]
async fn more_live_notices_than_the_pages_show_are_refused_and_admins_see_every_live_one() {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("alice", true).await;
    let alice = app.sign_in("alice").await;
    let post = |n: usize| {
        let title = format!("Outage number {n}");
        let (app, alice) = (&app, &alice);
        async move {
            let response = app
                .staff_post(
                    alice,
                    "/review/notices".into(),
                    &[
                        ("severity", "outage"),
                        ("hours", "48"),
                        ("title[en]", &title),
                        ("text[en]", "Mail is down."),
                    ],
                )
                .await;
            assert_eq!(response.status(), Status::SeeOther);
            response
                .cookies()
                .get("_flash")
                .map(|c| c.value().to_owned())
                .unwrap_or_default()
        }
    };
    for n in 0..5 {
        assert!(!post(n).await.contains("live already"));
    }
    let refused = post(5).await;
    assert!(refused.contains("5 notices are live already"), "{refused}");
    let page = app.staff_page(&alice, "/review/notices").await;
    for n in 0..5 {
        assert!(page.contains(&format!("Outage number {n}")), "{n}");
    }
    assert!(!page.contains("Outage number 5"), "the sixth was refused");
}

// 17. A reviewer's name cannot pass for another's.

#[rocket::async_test]
async fn look_alike_reviewer_names_are_refused() {
    let app = TestApp::start_for_staff(|_| {}).await;
    app.add_reviewer("admin", true).await;
    let admin = app.sign_in("admin").await;
    for look_alike in ["аdmin", "Admin", "adm1n", "admin.", "a.dmin", "ad_min"] {
        let response = app
            .staff_post(&admin, "/review/reviewers".into(), &[("name", look_alike)])
            .await;
        let flash = response
            .cookies()
            .get("_flash")
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        assert!(
            flash.contains("looks like the existing reviewer"),
            "{look_alike}: {flash}"
        );
    }
    let names: Vec<String> = transfer_desk::accounts::list_reviewers(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["admin"]);
    assert!(
        transfer_desk::accounts::add_reviewer(app.db(), "ADMIN", PASSWORD, false)
            .await
            .is_err()
    );
}
