//! The desk speaks EPP to a fake registry (tests/it/epp/fake_registry.rs): RFC 5734 framing
//! over TLS that requires the desk's client certificate, recording every command. Each test
//! is one hand-off story of the command way, told in EPP, or one way it can go wrong.

mod fake_registry;
mod pki;
mod xsd;

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use entities::request;
use fake_registry::{Answer, FakeRegistry};
use pki::{Authority, ClientFiles};
use rocket::http::Status;
use sea_orm::EntityTrait;
use transfer_desk::platform::config::epp::{self as settings, EppSettings};
use transfer_desk::workflow::sweep;

/// 6 to 16 characters, as RFC 5730 allows.
const PASSWORD: &str = "Pw-9f3kQ-nvrLg";

/// A registry, the desk's account at it, and the app using that account.
struct Desk {
    app: TestApp,
    registry: FakeRegistry,
    _files: tempfile::TempDir,
}

/// Who the desk trusts and who the registry trusts, for the refusal tests.
#[derive(Clone, Copy, PartialEq)]
enum Trust {
    Both,
    /// The desk's CA file names another CA than the registry's.
    OtherRegistryCa,
    /// The desk's client certificate is from a CA the registry does not know.
    OtherClientCa,
}

async fn account(
    trust: Trust,
    nameservers: &[&str],
) -> (FakeRegistry, EppSettings, tempfile::TempDir) {
    let registry_ca = Authority::new("Registry CA");
    let client_ca = Authority::new("Registry client CA");
    let stranger = Authority::new("Someone else");
    let server = registry_ca.leaf(&["localhost"]);
    let registry = FakeRegistry::start(&server, &client_ca, nameservers).await;
    let trusted = if trust == Trust::OtherRegistryCa {
        &stranger
    } else {
        &registry_ca
    };
    let client = if trust == Trust::OtherClientCa {
        stranger.leaf(&["desk.example"])
    } else {
        client_ca.leaf(&["desk.example"])
    };
    let dir = tempfile::tempdir().unwrap();
    let files = ClientFiles::write(dir.path(), trusted, &client, PASSWORD);
    let vars: HashMap<&str, String> = HashMap::from([
        (
            settings::SERVER,
            format!("localhost:{}", registry.addr.port()),
        ),
        (settings::CA_FILE, files.ca.display().to_string()),
        (settings::CLIENT_CERT, files.cert.display().to_string()),
        (settings::CLIENT_KEY, files.key.display().to_string()),
        (settings::CLIENT_ID, "desk-01".to_owned()),
        (
            settings::PASSWORD_FILE,
            files.password.display().to_string(),
        ),
    ]);
    let mut epp = settings::from_vars(|name| vars.get(name).cloned(), false)
        .unwrap()
        .expect("EPP configured");
    epp.backoff = Duration::from_millis(20);
    epp.connect_timeout = Duration::from_secs(10);
    epp.command_timeout = Duration::from_secs(10);
    (registry, epp, dir)
}

/// A staff app (alice admin, bob reviewer) whose registry is the fake, holding `nameservers`
/// for example.com.
async fn desk(trust: Trust, nameservers: &[&str]) -> Desk {
    let (registry, epp, files) = account(trust, nameservers).await;
    let app = TestApp::with_staff(|s| s.epp = Some(epp)).await;
    Desk {
        app,
        registry,
        _files: files,
    }
}

async fn approved_code(desk: &Desk) -> (uuid::Uuid, String) {
    let (id, token) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let approved = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);
    (id, token)
}

fn assert_password_never_logged() {
    let logs = captured_logs();
    assert!(!logs.is_empty(), "logs are captured");
    assert!(
        !logs.contains(PASSWORD),
        "the EPP password reached a log line"
    );
}

/// The clTRIDs of the frames the registry received, in order.
fn cl_trids(frames: &[String]) -> Vec<String> {
    let pattern = regex::Regex::new("<clTRID>([^<]*)</clTRID>").unwrap();
    frames
        .iter()
        .filter_map(|xml| pattern.captures(xml).map(|c| c[1].to_owned()))
        .collect()
}

#[rocket::async_test]
async fn an_approved_code_is_set_at_the_registry_in_one_session() {
    let desk = desk(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"]).await;
    let (id, token) = approved_code(&desk).await;
    let code = desk.app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = desk.registry.with(|r| r.received.clone());
    println!("{}", frames.join("\n---\n"));
    assert_eq!(
        desk.registry.with(|r| r.kinds()),
        ["login", "update", "logout"]
    );
    let login = &frames[0];
    assert!(
        login.contains("<clID>desk-01</clID>") && login.contains(&format!("<pw>{PASSWORD}</pw>"))
    );
    assert!(login.contains("<objURI>urn:ietf:params:xml:ns:domain-1.0</objURI>"));
    assert!(
        frames[1].contains(&format!("<pw>{code}</pw>")),
        "the code the requester reads"
    );
    assert!(frames[1].contains("<name>example.com</name>"));
    assert_eq!(
        desk.registry.with(|r| r.auth_info.clone()),
        Some(code.clone())
    );
    // Every clTRID names the request and was in the audit trail before the registry saw it.
    let recorded = desk.app.audit_details("registry_command").await;
    for (sent, trid) in frames.iter().zip(cl_trids(&frames)) {
        assert!(
            trid.starts_with(&format!("td-{}-1-", id.simple())),
            "{trid}"
        );
        let command = fake_registry::kind(sent);
        assert!(
            recorded
                .iter()
                .any(|d| d.ends_with(&trid) && d.contains(command)),
            "{trid}: {recorded:?}"
        );
    }
    assert!(recorded
        .iter()
        .all(|d| !d.contains(&code) && !d.contains(PASSWORD)));
    let issued = transfer_desk_means(&desk, id).await;
    assert_eq!(issued, "tracking link; registry (EPP)");
    for frame in &frames {
        xsd::assert_valid(frame);
    }
    assert_password_never_logged();
}

async fn transfer_desk_means(desk: &Desk, id: uuid::Uuid) -> String {
    entities::transfer_code::Entity::find_by_id(id)
        .one(desk.app.db())
        .await
        .unwrap()
        .unwrap()
        .means
}

#[rocket::async_test]
async fn a_double_click_on_approve_sends_one_update() {
    let desk = desk(Trust::Both, &[]).await;
    let (id, _) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    desk.app
        .staff_post(&alice, review_uri(id, "/claim"), &[])
        .await;
    let uri = review_uri(id, "/approve");
    let (a, b, c) = tokio::join!(
        desk.app.staff_post(&alice, uri.clone(), &[]),
        desk.app.staff_post(&alice, uri.clone(), &[]),
        desk.app.staff_post(&alice, uri.clone(), &[]),
    );
    let won = [a.status(), b.status(), c.status()];
    assert_eq!(
        won.iter().filter(|s| **s == Status::SeeOther).count(),
        1,
        "{won:?}"
    );
    assert_eq!(desk.registry.with(|r| r.of_kind("update").len()), 1);
}

#[rocket::async_test]
async fn a_cancelled_code_is_unset_with_domain_null() {
    let desk = desk(Trust::Both, &[]).await;
    let (id, token) = approved_code(&desk).await;
    let alice = desk.app.sign_in("alice").await;
    let withdrawn = desk
        .app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(withdrawn.status(), Status::SeeOther);
    assert!(desk.app.status_by_api(id, &token).await["transfer_code"].is_null());
    let updates = desk.registry.with(|r| r.of_kind("update"));
    assert_eq!(updates.len(), 2);
    assert!(
        updates[1].contains("<authInfo><null /></authInfo>")
            || updates[1].contains("<authInfo><null/></authInfo>"),
        "{}",
        updates[1]
    );
    xsd::assert_valid(&updates[1]);
    assert_eq!(desk.registry.with(|r| r.auth_info.clone()), None);
    assert_eq!(
        desk.app.audit_details("code_cancelled").await,
        ["the registry cancelled the code"]
    );
}

#[rocket::async_test]
async fn a_registry_that_refuses_null_gets_a_fresh_code_nobody_knows() {
    let desk = desk(Trust::Both, &[]).await;
    let (id, token) = approved_code(&desk).await;
    let code = desk.app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    desk.registry.state.lock().unwrap().refuses_null = true;
    let alice = desk.app.sign_in("alice").await;
    desk.app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    let held = desk.registry.with(|r| r.auth_info.clone()).unwrap();
    assert_ne!(held, code, "the requester's code no longer works");
    assert_eq!(held.len(), transfer_desk::registry::codes::CODE_LEN);
    assert!(
        !captured_logs().contains(&held),
        "the fresh code is told to no one"
    );
    assert!(desk.app.audit_details("code_cancelled").await[0].contains("one nobody knows"));
}

fn nameserver_change(hosts: &str) -> Multipart {
    valid_submission("example.com", &camera_photo())
        .text("kind", "nameservers")
        .text("nameservers", hosts)
}

async fn previous_nameservers(desk: &Desk, id: uuid::Uuid) -> Option<String> {
    request::Entity::find_by_id(id)
        .one(desk.app.db())
        .await
        .unwrap()
        .unwrap()
        .previous_nameservers
}

#[rocket::async_test]
async fn a_nameserver_change_reads_the_registry_first_and_restore_undoes_it() {
    // The portfolio knows no nameservers: the previous ones come from the registry.
    let desk = desk(Trust::Both, &["ns1.old-host.ch", "ns2.shared.ch"]).await;
    let (id, _) = desk
        .app
        .submit_by_api(nameserver_change("ns2.shared.ch ns3.new-host.ch"))
        .await;
    let alice = desk.app.sign_in("alice").await;
    assert_eq!(
        desk.app.claim_and_approve(&alice, id).await.status(),
        Status::SeeOther
    );
    assert_eq!(
        desk.registry.with(|r| r.kinds()),
        ["login", "info", "update", "logout"]
    );
    let update = desk.registry.with(|r| r.of_kind("update").remove(0));
    assert!(
        update.contains("<add><ns><hostObj>ns3.new-host.ch</hostObj></ns></add>"),
        "{update}"
    );
    assert!(
        update.contains("<rem><ns><hostObj>ns1.old-host.ch</hostObj></ns></rem>"),
        "{update}"
    );
    xsd::assert_valid(&update);
    assert_eq!(
        desk.registry.with(|r| r.nameservers.clone()),
        ["ns2.shared.ch", "ns3.new-host.ch"]
    );
    assert_eq!(
        previous_nameservers(&desk, id).await.as_deref(),
        Some("ns1.old-host.ch\nns2.shared.ch")
    );

    let restored = desk
        .app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(restored.status(), Status::SeeOther);
    let updates = desk.registry.with(|r| r.of_kind("update"));
    assert_eq!(updates.len(), 2);
    assert!(
        updates[1].contains("<add><ns><hostObj>ns1.old-host.ch</hostObj></ns></add>"),
        "{}",
        updates[1]
    );
    assert!(
        updates[1].contains("<rem><ns><hostObj>ns3.new-host.ch</hostObj></ns></rem>"),
        "{}",
        updates[1]
    );
    let mut held = desk.registry.with(|r| r.nameservers.clone());
    held.sort();
    assert_eq!(held, ["ns1.old-host.ch", "ns2.shared.ch"]);
    assert_eq!(
        desk.app.audit_details("nameservers_restored").await.len(),
        1
    );
}

#[rocket::async_test]
async fn a_change_waiting_for_its_window_is_handed_over_by_the_sweeper_reading_the_registry_then() {
    let (registry, epp, files) =
        account(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"]).await;
    let app = TestApp::with_staff(|s| {
        s.epp = Some(epp);
        s.objection_hours = 48;
    })
    .await;
    let desk = Desk {
        app,
        registry,
        _files: files,
    };
    let (id, _) = desk
        .app
        .submit_by_api(nameserver_change("ns1.new-host.ch ns2.new-host.ch"))
        .await;
    let alice = desk.app.sign_in("alice").await;
    assert_eq!(
        desk.app.claim_and_approve(&alice, id).await.status(),
        Status::SeeOther
    );
    assert!(
        desk.registry.with(|r| r.received.is_empty()),
        "nothing within the window"
    );
    // The registry changed meanwhile: what it holds at hand-over is what restore would send.
    desk.registry.state.lock().unwrap().nameservers =
        vec!["ns9.meanwhile.ch".into(), "ns2.old-host.ch".into()];
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    assert_eq!(
        sweep::sweep(desk.app.services(), later)
            .await
            .nameservers_handed_off,
        1
    );
    assert_eq!(
        desk.registry.with(|r| r.nameservers.clone()),
        ["ns1.new-host.ch", "ns2.new-host.ch"]
    );
    assert_eq!(
        previous_nameservers(&desk, id).await.as_deref(),
        Some("ns9.meanwhile.ch\nns2.old-host.ch")
    );
    assert_eq!(
        sweep::sweep(desk.app.services(), later)
            .await
            .nameservers_handed_off,
        0,
        "once"
    );
}

/// A refusal on the merits stops the approval once, with the registry's message for staff.
async fn refused_once(code: u16, message: &'static str) {
    let desk = desk(Trust::Both, &[]).await;
    desk.registry
        .script("update", &[Answer::Code(code, message)]);
    let (id, token) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let refused = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    let page = refused.into_string().await.unwrap();
    assert!(
        page.contains(message),
        "staff see the registry's message: {page}"
    );
    assert_eq!(
        desk.registry.with(|r| r.of_kind("update").len()),
        1,
        "not retried"
    );
    assert_eq!(desk.registry.with(|r| r.of_kind("login").len()), 1);
    assert_eq!(
        desk.app.status_by_api(id, &token).await["status"],
        "submitted"
    );
    let failed = desk.app.audit_details("issuing_failed").await;
    assert!(
        failed[0].contains(&format!("({code})")) && failed[0].contains(message),
        "{failed:?}"
    );
    let requester = desk.app.page(format!("/track/{token}")).await;
    assert!(!requester.contains(message), "never shown to the requester");
}

#[rocket::async_test]
async fn an_authorization_error_2201_is_not_retried() {
    refused_once(2201, "Authorization error: not sponsoring registrar").await;
}

#[rocket::async_test]
async fn an_unknown_domain_2303_is_not_retried() {
    refused_once(2303, "Object does not exist").await;
}

#[rocket::async_test]
async fn a_command_failed_2400_is_retried_in_a_new_session() {
    let desk = desk(Trust::Both, &[]).await;
    desk.registry
        .script("update", &[Answer::Code(2400, "Command failed")]);
    let (id, token) = approved_code(&desk).await;
    let code = desk.app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        desk.registry.with(|r| r.kinds()),
        ["login", "update", "logout", "login", "update", "logout"]
    );
    assert_eq!(desk.registry.with(|r| r.auth_info.clone()), Some(code));
    let trids = cl_trids(&desk.registry.with(|r| r.received.clone()));
    assert!(
        trids[3].starts_with(&format!("td-{}-2-", id.simple())),
        "a new attempt: {trids:?}"
    );
}

#[rocket::async_test]
async fn a_connection_lost_after_the_code_update_resends_the_same_code() {
    let desk = desk(Trust::Both, &[]).await;
    desk.registry.script("update", &[Answer::DropAfterApplying]);
    let (id, token) = approved_code(&desk).await;
    let code = desk.app.status_by_api(id, &token).await["transfer_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let updates = desk.registry.with(|r| r.of_kind("update"));
    assert_eq!(updates.len(), 2);
    assert!(updates
        .iter()
        .all(|u| u.contains(&format!("<pw>{code}</pw>"))));
}

#[rocket::async_test]
async fn a_connection_lost_after_a_nameserver_update_is_checked_with_info_before_resending() {
    let desk = desk(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"]).await;
    desk.registry.script("update", &[Answer::DropAfterApplying]);
    let (id, _) = desk
        .app
        .submit_by_api(nameserver_change("ns1.new-host.ch ns2.new-host.ch"))
        .await;
    let alice = desk.app.sign_in("alice").await;
    assert_eq!(
        desk.app.claim_and_approve(&alice, id).await.status(),
        Status::SeeOther
    );
    assert_eq!(
        desk.registry.with(|r| r.kinds()),
        ["login", "info", "update", "login", "info", "logout"],
        "the second session finds the change made and sends no update"
    );
    assert_eq!(
        desk.registry.with(|r| r.nameservers.clone()),
        ["ns1.new-host.ch", "ns2.new-host.ch"]
    );
}

#[rocket::async_test]
async fn a_registry_whose_certificate_is_not_from_the_configured_ca_never_sees_the_login() {
    let desk = desk(Trust::OtherRegistryCa, &[]).await;
    let (id, token) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let refused = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("certificate is not trusted"));
    assert!(
        desk.registry.with(|r| r.received.is_empty()),
        "nothing sent, no login"
    );
    assert_eq!(
        desk.app.status_by_api(id, &token).await["status"],
        "submitted"
    );
    assert_password_never_logged();
}

#[rocket::async_test]
async fn a_client_certificate_the_registry_does_not_know_is_refused_before_any_command() {
    let desk = desk(Trust::OtherClientCa, &[]).await;
    let (id, _) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let refused = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("refused the TLS connection"));
    assert!(desk.registry.with(|r| r.received.is_empty()));
    assert!(desk.registry.with(|r| r.handshakes_refused) >= 1);
}

#[rocket::async_test]
async fn the_operator_check_logs_in_reads_the_domain_and_logs_out() {
    let (registry, epp, _files) = account(Trust::Both, &["ns1.host.ch", "ns2.host.ch"]).await;
    let mut out = Vec::new();
    let worked = transfer_desk::registry::check::run(Some(&epp), "Example.COM", &mut out)
        .await
        .unwrap();
    let said = String::from_utf8(out).unwrap();
    assert!(worked, "{said}");
    assert!(said.contains("log in as desk-01: ok"), "{said}");
    assert!(
        said.contains("nameservers: ns1.host.ch ns2.host.ch"),
        "{said}"
    );
    assert!(!said.contains(PASSWORD));
    assert_eq!(registry.with(|r| r.kinds()), ["login", "info", "logout"]);
    for frame in registry.with(|r| r.received.clone()) {
        xsd::assert_valid(&frame);
    }
    assert!(
        registry.with(|r| r.of_kind("info")[0].contains("<name hosts=\"all\">example.com</name>"))
    );
    registry.script("info", &[Answer::Code(2303, "Object does not exist")]);
    let mut out = Vec::new();
    let worked = transfer_desk::registry::check::run(Some(&epp), "example.com", &mut out)
        .await
        .unwrap();
    let said = String::from_utf8(out).unwrap();
    assert!(!worked);
    assert!(said.contains("(2303): Object does not exist"), "{said}");
}
