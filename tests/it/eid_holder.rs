//! The holder who verifies directly confirms with the e-ID from their own page, against the
//! real binary with mail through a real SMTP server: their link comes by mail, their page
//! offers the e-ID, their wallet answers on the same device, and the request reaches review
//! with their disclosed names and no document of theirs.

use std::time::{Duration, Instant};

use entities::enums::{DocumentKind, EidSubject};
use entities::{audit_event, document, eid_proof, request};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::common::server::free_port;
use crate::common::server::{Server, WebClient};
use crate::common::smtp::{available, SmtpSink};
use crate::common::{camera_photo, Multipart};
use crate::eid::Tamper;
use crate::eid_flow::{eid_desk, links_on, submit_over_api, PASSWORD};

/// A representative's request that the holder on file (anna@example.com) confirms.
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

fn submit(server: &Server) -> (uuid::Uuid, String) {
    submit_over_api(server, asking_the_holder(), "awaiting_holder")
}

/// The holder's link (`/holder/<token>`) from the mail the holder got, once it arrived.
fn holder_link(sink: &SmtpSink) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = sink.messages().into_iter().find_map(|raw| {
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            let to = message.to()?.first()?.address()?.to_owned();
            let text = message.body_text(0)?.into_owned();
            (to == "anna@example.com" && text.contains("/holder/")).then_some(text)
        });
        if let Some(text) = found {
            let start = text.find("/holder/").unwrap();
            return text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
                .collect();
        }
        assert!(Instant::now() < deadline, "no mail to the holder");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn holder_state(server: &Server, holder_page: &str) -> String {
    let url = format!("{}{holder_page}/eid/status", server.base);
    let reply = crate::eid::http::get(&url).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json: Value = serde_json::from_str(&reply.body).unwrap();
    json["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_holder_confirms_with_the_eid_from_their_page_and_no_document_of_theirs_is_kept() {
    if !available() {
        return;
    }
    let sink = SmtpSink::start(free_port());
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let desk = eid_desk(&[("TRANSFER_DESK_SMTP_URL", &smtp)]).await;
    let server = &desk.server;
    let (id, _) = submit(server);
    let holder_page = holder_link(&sink);

    let mut holder = WebClient::default();
    let (status, page) = holder.get(server, &holder_page);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Or confirm with your swiyu e-ID"), "{page}");
    assert!(
        !page.contains("swiyu-verify://"),
        "no check until the holder starts one"
    );
    let start = format!("{holder_page}/eid/session");
    let csrf = WebClient::form_token(&page);
    let (status, answer) = holder.post_form(server, &start, &[("csrf_token", &csrf)]);
    assert_eq!(status, 303, "{answer}");
    assert!(answer.ends_with(&format!("{holder_page}#eid")), "{answer}");
    let (_, page) = holder.get(server, &holder_page);
    assert!(page.contains("<svg"), "the QR code on the holder's page");
    let (link, _) = links_on(&page);
    assert_eq!(holder_state(server, &holder_page).await, "awaiting_holder");

    let answered = desk
        .wallet
        .answer_link(&link, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    let json: Value = serde_json::from_str(&answered.reply.body).unwrap();
    let redirect = json["redirect_uri"].as_str().expect("a redirect_uri");
    let (status, answer) = holder.get(server, redirect.trim_start_matches(&server.base));
    assert_eq!(status, 303, "{answer}");
    assert!(
        answer.ends_with(&holder_page),
        "back to the holder's page: {answer}"
    );
    assert_eq!(holder_state(server, &holder_page).await, "submitted");
    let (_, page) = holder.get(server, &holder_page);
    assert!(page.contains("You confirmed on"), "{page}");

    let db = server.database().await;
    let kinds: Vec<DocumentKind> = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds,
        [DocumentKind::IdFront],
        "the representative's photo only"
    );
    let proof = eid_proof::Entity::find()
        .filter(eid_proof::Column::RequestId.eq(id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(proof.subject, EidSubject::Holder);
    assert!(proof.accepted_at.is_some());
    let found = request::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(found.holder_answered_at.is_some());
    let confirmed = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("holder_confirmed"))
        .filter(audit_event::Column::RequestId.eq(id))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(confirmed, 1);

    server.add_reviewer("alice", PASSWORD, false);
    let mut reviewer = WebClient::default();
    reviewer.sign_in(server, "alice", PASSWORD);
    let (status, review) = reviewer.get(server, &format!("/review/requests/{id}"));
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("Identity proven with the e-ID"), "{review}");
    assert!(review.contains("Holder"));
    assert!(review.contains("Anna Maria Muster"));
    assert!(review.contains("The disclosed names agree with the name typed and the registrant"));
}
