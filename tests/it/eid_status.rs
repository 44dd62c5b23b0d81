//! Token Status Lists end to end: the real binary with `TRANSFER_DESK_EID_REQUIRE_STATUS` at
//! its default, fetching the issuer's list over HTTPS from a loopback server whose CA it
//! trusts only through `SSL_CERT_FILE`.

use entities::eid_proof;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::common::server::WebClient;
use crate::eid::tls::TestCa;
use crate::eid::wallet::Wallet;
use crate::eid::{StatusServer, Tamper};
use crate::eid_flow::{eid_desk_with, error_of, links_on, state_of, submit_eid_request};

#[tokio::test]
async fn the_status_list_over_https_lets_a_valid_credential_pass_and_refuses_a_revoked_one() {
    let ca = TestCa::for_loopback();
    let status = StatusServer::start_tls(ca.server.clone());
    assert!(status.base().starts_with("https://127.0.0.1:"));
    let wallet = Wallet::new(status.base());
    status.publish(wallet.status_tokens(chrono::Utc::now().timestamp()));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("status-ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let ca_file = ca_file.display().to_string();

    // Without the CA: the list cannot be fetched, and the answer is refused as such.
    let mut desk = eid_desk_with(wallet, &[]).await;
    assert!(desk.server.log().contains("require_status=true"));
    let (_, token) = submit_eid_request(&desk.server);
    let (_, page) = WebClient::default().get(&desk.server, &format!("/track/{token}"));
    let (_, request_uri) = links_on(&page);
    let request = desk.wallet.fetch_request(&request_uri).await.unwrap();
    let honest = desk.wallet.present(&request, Tamper::Honest);
    let reply = Wallet::post(&request.response_uri, &honest).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(error_of(&reply.body), "temporarily_unavailable");
    assert_eq!(
        status.fetches(),
        0,
        "no request went out over an untrusted TLS"
    );

    desk.server.restart_with(&[("SSL_CERT_FILE", &ca_file)]);
    let server = &desk.server;
    for (tamper, why) in [
        (Tamper::Revoked, "the credential is revoked"),
        (Tamper::Suspended, "the credential is suspended"),
        (
            Tamper::NoStatusReference,
            "the credential has no status reference",
        ),
    ] {
        let answer = desk.wallet.present(&request, tamper);
        let reply = Wallet::post(&request.response_uri, &answer).await;
        assert_eq!(reply.status, 400, "{tamper:?}: {}", reply.body);
        assert_eq!(error_of(&reply.body), "access_denied", "{tamper:?}");
        assert!(reply.body.contains(why), "{tamper:?}: {}", reply.body);
        assert_eq!(state_of(server, &token).await, "awaiting_eid");
    }
    assert_eq!(
        status.fetches(),
        2,
        "the list, fetched for each answer with a reference"
    );
    let db = server.database().await;
    assert_eq!(eid_proof::Entity::find().count(&db).await.unwrap(), 0);

    let honest = desk.wallet.present(&request, Tamper::Honest);
    let reply = Wallet::post(&request.response_uri, &honest).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(status.fetches(), 3);
    assert_eq!(state_of(server, &token).await, "submitted");
    assert_eq!(eid_proof::Entity::find().count(&db).await.unwrap(), 1);
}
