//! The desk speaks EPP to a fake registry (tests/it/common/registry/fake_epp.rs): RFC 5734
//! framing over TLS that requires the desk's client certificate, recording every command.
//! Each test is what EPP adds to a hand-off story (the stories themselves run both ways where
//! they are told: `both_ways!`), or one way it can go wrong; the registry's refusals are in
//! `refusals`.

mod refusals;
mod xsd;

use crate::common::registry::fake_epp::{self, Answer};
use crate::common::registry::{TestRegistry, Trust, Way, EPP_PASSWORD as PASSWORD};
use crate::common::*;
use entities::request;
use rocket::http::Status;
use sea_orm::EntityTrait;
use transfer_desk::workflow::sweep;

/// A registry, the desk's account at it, and the app using that account.
struct Desk {
    app: TestApp,
    registry: TestRegistry,
}

impl Desk {
    /// The fake registry's state and what it received.
    fn with<T>(&self, read: impl FnOnce(&fake_epp::Registry) -> T) -> T {
        self.registry.fake().with(read)
    }

    fn script(&self, kind: &'static str, answers: &[Answer]) {
        self.registry.fake().script(kind, answers);
    }
}

/// A staff app (alice admin, bob reviewer) whose registry is the fake, holding `nameservers`
/// for example.com.
async fn desk(trust: Trust, nameservers: &[&str]) -> Desk {
    desk_with(trust, nameservers, |_| {}).await
}

async fn desk_with(
    trust: Trust,
    nameservers: &[&str],
    adjust: impl FnOnce(&mut transfer_desk::Settings),
) -> Desk {
    let registry = TestRegistry::start_trusting(Way::Epp, trust, nameservers).await;
    let app = TestApp::with_staff(|s| {
        registry.configure(s);
        adjust(s);
    })
    .await;
    Desk { app, registry }
}

async fn approved_code(desk: &Desk) -> (uuid::Uuid, String) {
    let (id, token) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let approved = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);
    (id, token)
}

/// alice approves the sample request and the hand-off fails: her page says `says`. The
/// request's id and token.
async fn refused_approval(desk: &Desk, says: &str) -> (uuid::Uuid, String) {
    let (id, token) = desk.app.submit_example().await;
    let alice = desk.app.sign_in("alice").await;
    let refused = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(refused.status(), Status::BadGateway);
    let page = refused.into_string().await.unwrap();
    assert!(page.contains(says), "staff are told why: {page}");
    (id, token)
}

/// The code the requester reads on their tracking link.
async fn requesters_code(desk: &Desk, id: uuid::Uuid, token: &str) -> String {
    desk.app.status_by_api(id, token).await["transfer_code"]
        .as_str()
        .expect("a code")
        .to_owned()
}

/// A nameserver change to `hosts`, submitted and approved by alice: its id and token.
async fn approved_change(desk: &Desk, hosts: &str) -> (uuid::Uuid, String) {
    let (id, token) = desk.app.submit_by_api(nameserver_change(hosts)).await;
    let alice = desk.app.sign_in("alice").await;
    assert_eq!(
        desk.app.claim_and_approve(&alice, id).await.status(),
        Status::SeeOther
    );
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
    let code = requesters_code(&desk, id, &token).await;
    let frames = desk.with(|r| r.received.clone());
    println!("{}", frames.join("\n---\n"));
    assert_eq!(desk.with(|r| r.kinds()), ["login", "update", "logout"]);
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
    assert_eq!(desk.with(|r| r.auth_info.clone()), Some(code.clone()));
    // Every clTRID names the request and was in the audit trail before the registry saw it.
    let recorded = desk.app.audit_details("registry_command").await;
    for (sent, trid) in frames.iter().zip(cl_trids(&frames)) {
        assert!(
            trid.starts_with(&format!("td-{}-1-", id.simple())),
            "{trid}"
        );
        let command = fake_epp::kind(sent);
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
    let updates = desk.with(|r| r.of_kind("update"));
    assert_eq!(updates.len(), 2);
    assert!(
        updates[1].contains("<authInfo><null /></authInfo>")
            || updates[1].contains("<authInfo><null/></authInfo>"),
        "{}",
        updates[1]
    );
    xsd::assert_valid(&updates[1]);
    assert_eq!(desk.with(|r| r.auth_info.clone()), None);
    assert_eq!(
        desk.app.audit_details("code_cancelled").await,
        ["the registry cancelled the code"]
    );
}

#[rocket::async_test]
async fn a_registry_that_refuses_null_gets_a_fresh_code_nobody_knows() {
    let desk = desk(Trust::Both, &[]).await;
    let (id, token) = approved_code(&desk).await;
    let code = requesters_code(&desk, id, &token).await;
    desk.registry.fake().state.lock().unwrap().refuses_null = true;
    let alice = desk.app.sign_in("alice").await;
    desk.app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    let held = desk.with(|r| r.auth_info.clone()).unwrap();
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
    let (id, _) = approved_change(&desk, "ns2.shared.ch ns3.new-host.ch").await;
    assert_eq!(
        desk.with(|r| r.kinds()),
        ["login", "info", "update", "logout"]
    );
    let update = desk.with(|r| r.of_kind("update").remove(0));
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
        desk.with(|r| r.nameservers.clone()),
        ["ns2.shared.ch", "ns3.new-host.ch"]
    );
    assert_eq!(
        previous_nameservers(&desk, id).await.as_deref(),
        Some("ns1.old-host.ch\nns2.shared.ch")
    );

    let alice = desk.app.sign_in("alice").await;
    let restored = desk
        .app
        .staff_post(&alice, review_uri(id, "/withdraw"), &[])
        .await;
    assert_eq!(restored.status(), Status::SeeOther);
    let updates = desk.with(|r| r.of_kind("update"));
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
    let mut held = desk.with(|r| r.nameservers.clone());
    held.sort();
    assert_eq!(held, ["ns1.old-host.ch", "ns2.shared.ch"]);
    assert_eq!(
        desk.app.audit_details("nameservers_restored").await.len(),
        1
    );
}

#[rocket::async_test]
async fn a_change_waiting_for_its_window_is_handed_over_by_the_sweeper_reading_the_registry_then() {
    let desk = desk_with(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"], |s| {
        s.objection_hours = 48
    })
    .await;
    let (id, _) = approved_change(&desk, "ns1.new-host.ch ns2.new-host.ch").await;
    assert!(
        desk.with(|r| r.received.is_empty()),
        "nothing within the window"
    );
    // The registry changed meanwhile: what it holds at hand-over is what restore would send.
    desk.registry.fake().state.lock().unwrap().nameservers =
        vec!["ns9.meanwhile.ch".into(), "ns2.old-host.ch".into()];
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    assert_eq!(
        sweep::sweep(desk.app.services(), later)
            .await
            .nameservers_handed_off,
        1
    );
    assert_eq!(
        desk.with(|r| r.nameservers.clone()),
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

#[rocket::async_test]
async fn a_command_failed_2400_is_retried_in_a_new_session() {
    let desk = desk(Trust::Both, &[]).await;
    desk.script("update", &[Answer::Code(2400, "Command failed")]);
    let (id, token) = approved_code(&desk).await;
    let code = requesters_code(&desk, id, &token).await;
    assert_eq!(
        desk.with(|r| r.kinds()),
        ["login", "update", "logout", "login", "update", "logout"]
    );
    assert_eq!(desk.with(|r| r.auth_info.clone()), Some(code));
    let trids = cl_trids(&desk.with(|r| r.received.clone()));
    assert!(
        trids[3].starts_with(&format!("td-{}-2-", id.simple())),
        "a new attempt: {trids:?}"
    );
}

#[rocket::async_test]
async fn a_connection_lost_after_the_code_update_resends_the_same_code() {
    let desk = desk(Trust::Both, &[]).await;
    desk.script("update", &[Answer::DropAfterApplying]);
    let (id, token) = approved_code(&desk).await;
    let code = requesters_code(&desk, id, &token).await;
    let updates = desk.with(|r| r.of_kind("update"));
    assert_eq!(updates.len(), 2);
    assert!(updates
        .iter()
        .all(|u| u.contains(&format!("<pw>{code}</pw>"))));
}

#[rocket::async_test]
async fn a_connection_lost_after_a_nameserver_update_is_checked_with_info_before_resending() {
    let desk = desk(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"]).await;
    desk.script("update", &[Answer::DropAfterApplying]);
    approved_change(&desk, "ns1.new-host.ch ns2.new-host.ch").await;
    assert_eq!(
        desk.with(|r| r.kinds()),
        ["login", "info", "update", "login", "info", "logout"],
        "the second session finds the change made and sends no update"
    );
    assert_eq!(
        desk.with(|r| r.nameservers.clone()),
        ["ns1.new-host.ch", "ns2.new-host.ch"]
    );
}

#[rocket::async_test]
async fn a_registry_whose_certificate_is_not_from_the_configured_ca_never_sees_the_login() {
    let desk = desk(Trust::OtherRegistryCa, &[]).await;
    let (id, token) = refused_approval(&desk, "certificate is not trusted").await;
    assert!(
        desk.with(|r| r.received.is_empty()),
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
    refused_approval(&desk, "refused the TLS connection").await;
    assert!(desk.with(|r| r.received.is_empty()));
    assert!(desk.with(|r| r.handshakes_refused) >= 1);
}

#[rocket::async_test]
async fn the_operator_check_logs_in_reads_the_domain_and_logs_out() {
    let account = TestRegistry::start(Way::Epp, &["ns1.host.ch", "ns2.host.ch"]).await;
    let (registry, epp) = (account.fake(), account.epp_settings());
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
