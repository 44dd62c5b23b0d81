//! The e-ID as a requester and a wallet meet it: the real binary (release profile) on
//! loopback, the test wallet of `eid` answering over HTTP. Status lists need https (the
//! service has no plain-HTTP exception), so these flows present credentials without a status
//! reference with `TRANSFER_DESK_EID_REQUIRE_STATUS=false`; `eid_status` proves the status
//! path over HTTPS, and the protocol's tests each way a list can refuse.

use entities::{audit_event, document, eid_proof, eid_session, request};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::common::server::{Server, WebClient};
use crate::common::{files_under, Multipart};
use crate::eid::wallet::Wallet;
use crate::eid::Tamper;

const DID: &str = "did:tdw:QmDesk:desk.example";
pub(crate) const PORTFOLIO: &str =
    "domain,registrant_name,registrant_email\nexample.com,Anna Maria Muster,anna@example.com\n";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A service with the e-ID on, whose trust file names the test wallet's issuer; the wallet
/// knows the verifier's key as `eid key` prints it.
pub(crate) struct EidDesk {
    pub server: Server,
    pub wallet: Wallet,
    _trust: tempfile::TempDir,
}

pub(crate) async fn eid_desk(extra: &[(&str, &str)]) -> EidDesk {
    let mut settings = vec![("TRANSFER_DESK_EID_REQUIRE_STATUS", "false")];
    settings.extend_from_slice(extra);
    eid_desk_with(Wallet::new("https://status.invalid/lists"), &settings).await
}

/// As [`eid_desk`], with `wallet` (whose credentials name its status lists) and only the
/// `extra` settings beside the DID and the trust file.
pub(crate) async fn eid_desk_with(mut wallet: Wallet, extra: &[(&str, &str)]) -> EidDesk {
    let trust = tempfile::tempdir().unwrap();
    let trust_file = trust.path().join("trust.json");
    std::fs::write(&trust_file, wallet.trust_file_json()).unwrap();
    let trust_path = trust_file.display().to_string();
    let mut settings = vec![
        ("TRANSFER_DESK_EID_VERIFIER_DID", DID),
        ("TRANSFER_DESK_EID_TRUST_FILE", trust_path.as_str()),
    ];
    settings.extend_from_slice(extra);
    let server = Server::start(&settings).await;
    server.import_domains(PORTFOLIO);
    let jwk = printed_key(&server);
    wallet.set_verifier_jwk(jwk);
    EidDesk {
        server,
        wallet,
        _trust: trust,
    }
}

/// The JWK that `transfer-desk eid key` prints on its standard output (the log follows).
fn printed_key(server: &Server) -> Value {
    let printed = server.run(&["eid", "key"], "");
    let end = printed.find("\n}").expect("a JSON object") + 2;
    serde_json::from_str(&printed[..end]).expect("eid key prints a JWK")
}

/// Submits an e-ID request for example.com through the API; returns its id and tracking
/// token.
pub(crate) fn submit_eid_request(server: &Server) -> (uuid::Uuid, String) {
    let form = Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "Anna Muster")
        .text("email", "anna@example.org")
        .text("relation", "holder")
        .text("proof", "eid")
        .text("consent", "yes");
    submit_over_api(server, form, "awaiting_eid")
}

/// Posts `form` to the API as any HTTP client would; the request must be stored in `state`.
/// Returns its id and tracking token.
pub(crate) fn submit_over_api(
    server: &Server,
    form: Multipart,
    state: &str,
) -> (uuid::Uuid, String) {
    let (content_type, body) = form.finish();
    let host = server.base.trim_start_matches("http://");
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 201, "{answer}");
    let json: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(json["status"], state);
    (
        json["request_id"].as_str().unwrap().parse().unwrap(),
        json["tracking_token"].as_str().unwrap().to_owned(),
    )
}

/// The same-device link on a tracking page, and the QR code's request_uri (the same
/// address without `/same-device`).
pub(crate) fn links_on(page: &str) -> (String, String) {
    let page = page.replace("&#x2F;", "/");
    let start = page
        .find("swiyu-verify://")
        .expect("a wallet link on the page");
    let link: String = page[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect::<String>()
        .replace("&#x2F;", "/")
        .replace("&amp;", "&");
    let encoded = link.split("request_uri=").nth(1).unwrap();
    let same_device = percent_decode(encoded);
    let cross_device = same_device.trim_end_matches("/same-device").to_owned();
    (link, cross_device)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

pub(crate) async fn state_of(server: &Server, token: &str) -> String {
    let reply = crate::eid::http::get(&format!("{}/track/{token}/eid/status", server.base)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        json.as_object().unwrap().len(),
        1,
        "the poll says nothing but the state"
    );
    json["state"].as_str().unwrap().to_owned()
}

pub(crate) fn error_of(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"));
    assert!(json["error_description"].is_string(), "{body}");
    json["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_eid_request_reaches_review_with_no_document_and_the_reviewer_sees_the_names() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let mut browser = WebClient::default();
    let (_, form) = browser.get(server, "/");
    assert!(
        form.contains("name=\"proof\" value=\"eid\""),
        "the form offers the e-ID"
    );
    let (id, token) = submit_eid_request(server);
    let (_, page) = browser.get(server, &format!("/track/{token}"));
    assert!(page.contains("<svg"), "a QR code on the tracking page");
    let (link, request_uri) = links_on(&page);
    assert!(link.starts_with("swiyu-verify://?client_id=decentralized_identifier%3Adid%3Atdw%3A"));

    let answered = desk
        .wallet
        .answer(&request_uri, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    assert_eq!(answered.reply.body.trim(), "{}");
    assert_eq!(state_of(server, &token).await, "submitted");

    let db = server.database().await;
    let documents = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(documents, 0, "no document row");
    assert!(
        files_under(&server.uploads_dir()).is_empty(),
        "no file in the store"
    );
    let proof = eid_proof::Entity::find()
        .filter(eid_proof::Column::RequestId.eq(id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (proof.given_name.as_str(), proof.family_name.as_str()),
        ("Anna Maria", "Muster")
    );
    assert!(proof.accepted_at.is_some());
    let session = eid_session::Entity::find_by_id(proof.session_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        session.sealed_key.is_none(),
        "the session's key went with the answer"
    );
    assert!(
        session.nonce.is_empty() && session.oauth_state.is_empty(),
        "the nonce and state went with it"
    );
    for action in ["eid_proven", "eid_accepted"] {
        let logged = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .filter(audit_event::Column::RequestId.eq(id))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(logged, 1, "{action} in the audit log");
    }

    // A second answer to the answered session (a replay) changes nothing.
    let replay = Wallet::post(&answered.request.response_uri, &answered.answer).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert_eq!(error_of(&replay.body), "invalid_request");
    assert_eq!(
        eid_proof::Entity::find().count(&db).await.unwrap(),
        1,
        "one proof"
    );

    server.add_reviewer("alice", PASSWORD, false);
    let mut reviewer = WebClient::default();
    reviewer.sign_in(server, "alice", PASSWORD);
    let (status, review) = reviewer.get(server, &format!("/review/requests/{id}"));
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("Identity proven with the e-ID"), "{review}");
    assert!(review.contains("Anna Maria Muster"));
    assert!(review.contains("The disclosed names agree with the name typed and the registrant"));
    assert!(review.contains("No identity document was sent"));
    assert!(!review.contains("/documents/"), "no document section");
}

#[tokio::test]
async fn a_same_device_answer_counts_only_in_the_browser_that_started_the_session() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    // Submitted through the API: no browser holds the session's secret, as when someone
    // sends their session's link to another person's phone.
    let (_, token) = submit_eid_request(server);
    let (_, page) = WebClient::default().get(server, &format!("/track/{token}"));
    let (link, _) = links_on(&page);
    let answered = desk
        .wallet
        .answer_link(&link, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    let json: Value = serde_json::from_str(&answered.reply.body).unwrap();
    let redirect = json["redirect_uri"]
        .as_str()
        .expect("a redirect_uri")
        .to_owned();
    assert!(redirect.starts_with(&format!("{}/eid/return?response_code=", server.base)));
    assert!(
        !redirect.contains(&token),
        "the redirect never carries the tracking token"
    );
    let path = redirect.trim_start_matches(&server.base).to_owned();
    let (status, _) = WebClient::default().get(server, &path);
    assert_eq!(status, 403, "another browser's return does nothing");
    assert_eq!(state_of(server, &token).await, "awaiting_eid");
}

#[tokio::test]
async fn an_expired_session_refuses_its_answer() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let (id, token) = submit_eid_request(server);
    let (_, page) = WebClient::default().get(server, &format!("/track/{token}"));
    let (_, request_uri) = links_on(&page);
    let request = desk.wallet.fetch_request(&request_uri).await.unwrap();
    let db = server.database().await;
    eid_session::Entity::update_many()
        .col_expr(
            eid_session::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(16)),
        )
        .filter(eid_session::Column::RequestId.eq(id))
        .exec(&db)
        .await
        .unwrap();
    let answer = desk.wallet.present(&request, Tamper::NoStatusReference);
    let reply = Wallet::post(&request.response_uri, &answer).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "invalid_request");
    assert!(reply.body.contains("expired"), "{}", reply.body);
    assert_eq!(state_of(server, &token).await, "awaiting_eid");
    let state = request::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state, entities::enums::RequestState::AwaitingEid);
}

#[tokio::test]
async fn the_response_endpoint_refuses_what_is_not_an_encrypted_answer_to_a_known_session() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let (_, token) = submit_eid_request(server);
    let (_, page) = WebClient::default().get(server, &format!("/track/{token}"));
    let (_, request_uri) = links_on(&page);
    let request = desk.wallet.fetch_request(&request_uri).await.unwrap();

    let plain = desk.wallet.present(&request, Tamper::UnencryptedForm);
    let reply = Wallet::post(&request.response_uri, &plain).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("not encrypted"), "{}", reply.body);

    let honest = desk.wallet.present(&request, Tamper::NoStatusReference);
    let path = request
        .response_uri
        .trim_start_matches(&server.base)
        .to_owned();
    let host = server.base.trim_start_matches("http://");
    let body = serde_json::json!({"response": honest.response().unwrap()}).to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body.into_bytes());
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("application/x-www-form-urlencoded"),
        "{answer}"
    );

    let unknown = request.response_uri.replace(
        &request
            .response_uri
            .split('/')
            .nth_back(1)
            .unwrap()
            .to_owned(),
        &uuid::Uuid::new_v4().simple().to_string(),
    );
    let reply = Wallet::post(&unknown, &honest).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "invalid_request");

    // None of it used the session up: the honest answer still counts.
    let reply = Wallet::post(&request.response_uri, &honest).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(state_of(server, &token).await, "submitted");
}

#[tokio::test]
async fn without_a_verifier_did_the_form_offers_no_eid() {
    let server = Server::start(&[]).await;
    let (_, form) = WebClient::default().get(&server, "/");
    assert!(form.contains("name=\"relation\""), "the form");
    assert!(!form.contains("name=\"proof\""), "no e-ID choice");
}

#[tokio::test]
async fn an_unreadable_trust_file_stops_the_start() {
    let (status, log) = Server::refuses_to_start(&[
        ("TRANSFER_DESK_EID_VERIFIER_DID", DID),
        ("TRANSFER_DESK_EID_TRUST_FILE", "/nonexistent/trust.json"),
    ])
    .await;
    assert!(!status.success());
    assert!(
        log.contains("TRANSFER_DESK_EID_TRUST_FILE: cannot read /nonexistent/trust.json"),
        "{log}"
    );
}

#[tokio::test]
async fn eid_key_prints_the_public_jwk_with_its_kid() {
    let desk = eid_desk(&[]).await;
    let jwk = printed_key(&desk.server);
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(jwk.get("d").is_none(), "no private part");
    let kid = jwk["kid"].as_str().unwrap();
    assert!(kid.starts_with(&format!("{DID}#")), "{kid}");
    let again = printed_key(&desk.server);
    assert_eq!(jwk, again, "one key, made once");
}

/// Every POST but the wallet's answer is refused when a browser sends it from another site
/// without the form's token: the e-ID's endpoint is the one exemption, by name.
#[rocket::async_test]
async fn only_the_wallets_answer_is_posted_without_csrf_token_or_origin_check() {
    use rocket::http::{ContentType, Header, Method};
    let app = crate::common::TestApp::start().await;
    let posts: Vec<String> = app
        .client
        .rocket()
        .routes()
        .filter(|route| route.method == Method::Post)
        .map(|route| route.uri.to_string())
        .collect();
    assert!(posts
        .iter()
        .any(|uri| transfer_desk::web::CSRF_EXEMPT.contains(&uri.as_str())));
    for uri in posts {
        if transfer_desk::web::CSRF_EXEMPT.contains(&uri.as_str()) {
            continue;
        }
        let path: String = uri
            .split('?')
            .next()
            .unwrap()
            .split('/')
            .map(|part| if part.starts_with('<') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let response = app
            .client
            .post(path.clone())
            .header(ContentType::Form)
            .header(Header::new("Sec-Fetch-Site", "cross-site"))
            .header(Header::new("Origin", "https://evil.example"))
            .body("csrf_token=forged&response=x")
            .dispatch()
            .await;
        let status = response.status().code;
        let to_login = response
            .headers()
            .get_one("Location")
            .is_some_and(|l| l.contains("/review/login"));
        assert!(
            [401, 403, 404].contains(&status) || to_login,
            "POST {uri} from another site answered {status}"
        );
    }
}

/// Whoever holds a session's QR code may send it answers that fail; after a few the session
/// is closed, so that neither the audit trail nor the verifier is theirs to keep busy.
#[tokio::test]
async fn a_session_closes_after_five_refused_answers() {
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    let (id, token) = submit_eid_request(server);
    let (_, page) = WebClient::default().get(server, &format!("/track/{token}"));
    let (_, request_uri) = links_on(&page);
    let request = desk.wallet.fetch_request(&request_uri).await.unwrap();
    let forged = desk.wallet.present(&request, Tamper::OtherNonce);
    for attempt in 1..=5 {
        let reply = Wallet::post(&request.response_uri, &forged).await;
        assert_eq!(reply.status, 400, "attempt {attempt}: {}", reply.body);
        assert_eq!(error_of(&reply.body), "access_denied", "attempt {attempt}");
    }
    let honest = desk.wallet.present(&request, Tamper::NoStatusReference);
    let reply = Wallet::post(&request.response_uri, &honest).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "invalid_request");
    assert!(reply.body.contains("closed"), "{}", reply.body);
    assert_eq!(state_of(server, &token).await, "awaiting_eid");

    let db = server.database().await;
    let refused: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("eid_refused"))
        .filter(audit_event::Column::RequestId.eq(id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|event| event.detail)
        .collect();
    assert_eq!(refused.len(), 5, "one audit line per refusal, none after");
    assert!(
        refused.iter().any(|d| d.contains("the session is closed")),
        "{refused:?}"
    );
    let session = eid_session::Entity::find()
        .filter(eid_session::Column::RequestId.eq(id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(session.sealed_key.is_none() && session.nonce.is_empty());
    assert_eq!(session.refused_answers, 5);
    // The requester can start a new check.
    let (_, again) = WebClient::default().get(server, &format!("/track/{token}"));
    assert!(again.contains("Start a new e-ID check"), "{again}");
}
