//! Tests of the oracle itself: the wallet reads a request object made to the profile, its
//! honest answer has the shape the specifications give, and the status server serves lists.

use p256::elliptic_curve::Generate;
use serde_json::{json, Value};

use super::jose::{self, decode_jws, new_signing_key, public_jwk, random_b64, sha256_b64};
use super::request::{read_link, read_request};
use super::{StatusServer, Tamper, Wallet};

const VERIFIER_DID: &str = "did:webvh:QmVerifier:desk.transfer-desk.test";

/// A request object as Swiss Profile Verification §5 describes it, signed by `key`.
fn request_object(key: &p256::ecdsa::SigningKey, session: &Value, tweak: &Value) -> String {
    let header = json!({
        "alg": "ES256", "typ": "oauth-authz-req+jwt",
        "kid": format!("{VERIFIER_DID}#key-1"),
        "profile_version": "swiss-profile-verification:1.0.0",
    });
    let mut claims = json!({
        "client_id": format!("decentralized_identifier:{VERIFIER_DID}"),
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": "https://desk.example/eid/response/s1",
        "aud": "https://self-issued.me/v2",
        "nonce": random_b64(16),
        "state": random_b64(16),
        "client_metadata": {
            "jwks": { "keys": [session] },
            "encrypted_response_enc_values_supported": ["A256GCM"],
        },
        "dcql_query": { "credentials": [{
            "id": "e-id", "format": "dc+sd-jwt",
            "meta": { "vct_values": ["betaid-sdjwt"] },
            "claims": [{ "path": ["given_name"] }, { "path": ["family_name"] }],
        }]},
    });
    jose::merge(&mut claims, tweak);
    jose::sign_es256(&header, &claims, key)
}

fn verifier_jwk(key: &p256::ecdsa::SigningKey) -> Value {
    let mut jwk = public_jwk(key.verifying_key());
    jwk["kid"] = json!(format!("{VERIFIER_DID}#key-1"));
    jwk
}

#[test]
fn the_honest_answer_discloses_the_names_only_bound_to_the_session() {
    let (verifier, session) = (new_signing_key(), p256::SecretKey::generate());
    let mut session_jwk = public_jwk(&session.public_key().into());
    session_jwk["kid"] = json!("session-1");
    let jws = request_object(&verifier, &session_jwk, &json!({}));
    let request = read_request(&jws, &verifier_jwk(&verifier)).unwrap();
    let wallet = Wallet::new("https://status.example/lists");
    let answer = wallet.present(&request, Tamper::Honest);

    let jwe = answer.response().unwrap();
    let protected = jose::unb64(jwe.split('.').next().unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&protected).unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["enc"].as_str()),
        (Some("ECDH-ES"), Some("A256GCM"))
    );
    assert_eq!(header["kid"], "session-1");
    let payload: Value =
        serde_json::from_slice(&jose::decrypt_ecdh_es(jwe, &session).unwrap()).unwrap();
    assert_eq!(payload["state"], request.state);
    let presentation = payload["vp_token"]["e-id"][0].as_str().unwrap();
    let parts: Vec<&str> = presentation.split('~').collect();
    assert_eq!(parts.len(), 4, "issuer JWT, two disclosures, KB-JWT");
    let names: Vec<Value> = parts[1..3]
        .iter()
        .map(|d| serde_json::from_slice::<Value>(&jose::unb64(d).unwrap()).unwrap()[1].clone())
        .collect();
    assert_eq!(names, [json!("given_name"), json!("family_name")]);
    let (kb_header, kb) = decode_jws(parts[3]).unwrap();
    assert_eq!(kb_header["typ"], "kb+jwt");
    assert_eq!(
        (&kb["aud"], &kb["nonce"]),
        (&json!(request.client_id), &json!(request.nonce))
    );
    let before_kb = &presentation[..presentation.len() - parts[3].len()];
    assert_eq!(kb["sd_hash"], sha256_b64(before_kb));
    let (_, issued) = decode_jws(parts[0]).unwrap();
    let holder = jose::verifying_key(&issued["cnf"]["jwk"]).unwrap();
    assert!(
        jose::verify_es256(parts[3], &holder).is_some(),
        "KB-JWT signed by cnf.jwk"
    );
}

#[test]
fn the_wallet_refuses_a_request_object_not_made_to_the_profile() {
    let (verifier, session) = (new_signing_key(), p256::SecretKey::generate());
    let session_jwk = public_jwk(&session.public_key().into());
    let jwk = verifier_jwk(&verifier);
    for tweak in [
        json!({ "response_mode": "direct_post" }),
        json!({ "client_id": "decentralized_identifier:did:web:other.example" }),
        json!({ "aud": "https://desk.example" }),
        json!({ "nonce": "short" }),
        json!({ "client_metadata": { "jwks": { "keys": [] } } }),
    ] {
        let jws = request_object(&verifier, &session_jwk, &tweak);
        assert!(read_request(&jws, &jwk).is_err(), "{tweak} is refused");
    }
    let by_another = request_object(&new_signing_key(), &session_jwk, &json!({}));
    assert!(
        read_request(&by_another, &jwk).is_err(),
        "another key's signature is refused"
    );
}

#[test]
fn the_same_device_link_gives_client_id_and_request_uri() {
    let link = "swiyu-verify://?client_id=decentralized_identifier%3Adid%3Aweb%3Ax&request_uri=https%3A%2F%2Fd%2Fr%3Fa%3D1";
    let (client_id, request_uri) = read_link(link).unwrap();
    assert_eq!(client_id, "decentralized_identifier:did:web:x");
    assert_eq!(request_uri, "https://d/r?a=1");
    assert!(read_link("https://?client_id=a&request_uri=b").is_err());
}

#[tokio::test]
async fn the_status_server_serves_what_was_published() {
    let server = StatusServer::start();
    let wallet = Wallet::new(server.base());
    server.publish(wallet.status_tokens(chrono::Utc::now().timestamp()));
    let reply = super::http::get(&wallet.status_uri()).await;
    assert_eq!(
        (reply.status, reply.content_type.as_str()),
        (200, "application/statuslist+jwt")
    );
    let (header, claims) = decode_jws(&reply.body).unwrap();
    assert_eq!(
        (header["typ"].as_str(), claims["sub"].as_str()),
        (Some("statuslist+jwt"), Some(wallet.status_uri().as_str()))
    );
    let missing = super::http::get(&format!("{}/nothing", server.base())).await;
    assert_eq!(missing.status, 404);
    assert_eq!(server.fetches(), 2);
}
