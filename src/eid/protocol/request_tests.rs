use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::eid::protocol::jose::{EcKey, Jws};

fn verifier() -> VerifierKey {
    let pkcs8 = VerifierKey::generate_pkcs8().unwrap();
    VerifierKey::from_pkcs8("did:example:desk", &pkcs8).unwrap()
}

static VCTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    vec![
        "betaid-sdjwt".to_owned(),
        "urn:vct:ch.admin.bcs.betaid".to_owned(),
    ]
});
static DIDS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| vec!["did:example:issuer".to_owned()]);

/// The request object of a typical session, after `edit` changed what a test needs.
fn sign<'a>(
    verifier: &VerifierKey,
    session: &'a SessionKey,
    edit: impl FnOnce(&mut AuthorizationRequest<'a>),
) -> Result<String, ProtocolError> {
    let mut request = AuthorizationRequest {
        response_uri: "https://desk.example/eid/s1/response",
        nonce: "n0nce-n0nce-n0nce-n0nce",
        state: "session-state-0123456789",
        purpose: "transfer code for example.ch",
        accepted_vcts: &VCTS,
        trusted_issuer_dids: &DIDS,
        session_key: session,
        now: chrono::Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap(),
    };
    edit(&mut request);
    request_object(verifier, &request)
}

#[test]
fn the_request_object_is_signed_by_the_verifier_with_the_profiles_header() {
    let verifier = verifier();
    let session = SessionKey::generate();
    let jar = sign(&verifier, &session, |_| {}).unwrap();
    let jws = Jws::parse(&jar, &["oauth-authz-req+jwt"]).unwrap();
    assert!(jws.verified_by(&EcKey::from_jwk(&verifier.public_jwk()).unwrap()));
    assert_eq!(
        serde_json::Value::Object(jws.header),
        json!({
            "alg": "ES256", "typ": "oauth-authz-req+jwt", "kid": verifier.key_id(),
            "profile_version": "swiss-profile-verification:1.0.0",
        })
    );
    assert!(verifier.key_id().starts_with("did:example:desk#"));
}

#[test]
fn the_request_object_carries_the_profiles_claims() {
    let verifier = verifier();
    let session = SessionKey::generate();
    let jar = sign(&verifier, &session, |_| {}).unwrap();
    let claims = Jws::parse(&jar, &["oauth-authz-req+jwt"]).unwrap().claims;
    assert_eq!(
        claims["client_id"],
        "decentralized_identifier:did:example:desk"
    );
    assert_eq!(claims["client_id"], verifier.client_id());
    assert_eq!(claims["response_type"], "vp_token");
    assert_eq!(claims["response_mode"], "direct_post.jwt");
    assert_eq!(
        claims["response_uri"],
        "https://desk.example/eid/s1/response"
    );
    assert_eq!(claims["aud"], "https://self-issued.me/v2");
    assert_eq!(claims["nonce"], "n0nce-n0nce-n0nce-n0nce");
    assert_eq!(claims["state"], "session-state-0123456789");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let metadata = &claims["client_metadata"];
    assert_eq!(metadata["jwks"]["keys"], json!([session.public_jwk()]));
    assert_eq!(
        metadata["encrypted_response_enc_values_supported"],
        json!(["A256GCM"])
    );
    assert_eq!(metadata["client_name"], "transfer code for example.ch");
    assert!(metadata.get("vp_formats_supported").is_none());
    let jwk = &metadata["jwks"]["keys"][0];
    assert_eq!(
        (&jwk["use"], &jwk["alg"], &jwk["crv"]),
        (&json!("enc"), &json!("ECDH-ES"), &json!("P-256"))
    );
    assert!(jwk.get("d").is_none());
}

#[test]
fn the_dcql_query_asks_for_the_names_only_of_accepted_credentials() {
    let verifier = verifier();
    let session = SessionKey::generate();
    let jar = sign(&verifier, &session, |_| {}).unwrap();
    let claims = Jws::parse(&jar, &["oauth-authz-req+jwt"]).unwrap().claims;
    let credentials = claims["dcql_query"]["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1);
    let query = &credentials[0];
    assert_eq!(query["id"], "identity");
    assert_eq!(query["format"], "dc+sd-jwt");
    assert_eq!(
        query["meta"]["vct_values"],
        json!(["betaid-sdjwt", "urn:vct:ch.admin.bcs.betaid"])
    );
    assert_eq!(
        query["trusted_authorities"],
        json!([{ "type": "did", "values": ["did:example:issuer"] }])
    );
    assert_eq!(
        query["claims"],
        json!([{ "path": ["given_name"] }, { "path": ["family_name"] }])
    );
    let text = claims["dcql_query"].to_string();
    for never in [
        "portrait",
        "personal_administrative_number",
        "birth_date",
        "ahv",
        "age_",
    ] {
        assert!(!text.contains(never), "{never}");
    }
}

#[test]
fn a_request_without_https_fresh_tokens_types_or_issuers_is_not_signed() {
    let verifier = verifier();
    let session = SessionKey::generate();
    let none: Vec<String> = Vec::new();
    let bad_did = vec!["not-a-did".to_owned()];
    assert!(sign(&verifier, &session, |r| r.response_uri =
        "http://desk.example/r")
    .is_err());
    assert!(sign(&verifier, &session, |r| r.response_uri = "https:///r").is_err());
    assert!(sign(&verifier, &session, |r| r.response_uri = "/eid/r").is_err());
    assert!(sign(&verifier, &session, |r| r.response_uri =
        "http://localhost.evil/r")
    .is_err());
    assert!(sign(&verifier, &session, |r| r.response_uri =
        "http://127.0.0.1:8000/r")
    .is_ok());
    assert!(sign(&verifier, &session, |r| r.nonce = "short").is_err());
    assert!(sign(&verifier, &session, |r| r.state =
        "has spaces has spaces has")
    .is_err());
    assert!(sign(&verifier, &session, |r| r.purpose = " ").is_err());
    assert!(sign(&verifier, &session, |r| r.accepted_vcts = &none).is_err());
    assert!(sign(&verifier, &session, |r| r.trusted_issuer_dids = &none).is_err());
    assert!(sign(&verifier, &session, |r| r.trusted_issuer_dids = &bad_did).is_err());
}
