//! The verifier's side as the library tests and the bench set it up: the desk's keys, one
//! session's request object (made by the verifier under test and read by the test wallet) and
//! a status source in memory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use transfer_desk::eid::protocol::{
    request_object, verify_response, AuthorizationRequest, Expectations, ProvenIdentity, Refusal,
    SessionKey, StatusFetchError, StatusListSource, TrustList, VerifierKey,
};

use super::request::{read_request, Request};
use super::wallet::Answer;
use super::{Tamper, Wallet};

pub const VERIFIER_DID: &str = "did:webvh:QmDesk:desk.transfer-desk.test";
pub const STATUS_BASE: &str = "https://status.transfer-desk.test/statuslists";

/// Status list tokens by URI, as a registry would serve them.
#[derive(Default, Clone)]
pub struct MemoryStatus(pub HashMap<String, String>);

impl StatusListSource for MemoryStatus {
    async fn fetch(&self, uri: &str) -> Result<String, StatusFetchError> {
        self.0
            .get(uri)
            .cloned()
            .ok_or_else(|| StatusFetchError(format!("{uri}: 404")))
    }
}

/// One verification session of the desk, with the test wallet that answers it.
pub struct Session {
    pub verifier: VerifierKey,
    /// The verifier's `decentralized_identifier:<did>`, what the session expects as `aud`.
    pub client_id: String,
    pub session_key: SessionKey,
    pub nonce: String,
    pub state: String,
    pub accepted_vcts: Vec<String>,
    pub trust: TrustList,
    pub status: MemoryStatus,
    pub wallet: Wallet,
    /// The request object as the verifier signed it.
    pub request_object: String,
    /// The request object as the wallet read it.
    pub request: Request,
    pub now: DateTime<Utc>,
}

impl Session {
    /// A fresh desk key, session key, nonce and state; a wallet whose issuer is the only one
    /// trusted; the request object made by the verifier and checked by the wallet.
    pub fn new() -> Self {
        let now = Utc::now();
        let pkcs8 = VerifierKey::generate_pkcs8().expect("a verifier key");
        let verifier = VerifierKey::from_pkcs8(VERIFIER_DID, &pkcs8).expect("the key reads back");
        let session_key = SessionKey::generate();
        let wallet = Wallet::new(STATUS_BASE);
        let trust = TrustList::from_json(&wallet.trust_file_json()).expect("the trust file reads");
        let status = MemoryStatus(wallet.status_tokens(now.timestamp()).into_iter().collect());
        let (nonce, state) = (super::jose::random_b64(32), super::jose::random_b64(32));
        let accepted_vcts = vec![
            "betaid-sdjwt".to_owned(),
            "urn:vct:ch.admin.bcs.betaid".to_owned(),
        ];
        let request_object = request_object(
            &verifier,
            &AuthorizationRequest {
                response_uri: "https://desk.transfer-desk.test/eid/response/s1",
                nonce: &nonce,
                state: &state,
                purpose: "transfer code for example.ch",
                accepted_vcts: &accepted_vcts,
                trusted_issuer_dids: &trust.issuer_dids(),
                session_key: &session_key,
                now,
            },
        )
        .expect("the verifier makes a request object");
        let request = read_request(&request_object, &verifier.public_jwk()).unwrap_or_else(|e| {
            panic!("the wallet refuses the verifier's request object: {}", e.0)
        });
        Self {
            client_id: verifier.client_id(),
            verifier,
            session_key,
            nonce,
            state,
            accepted_vcts,
            trust,
            status,
            wallet,
            request_object,
            request,
            now,
        }
    }

    pub fn expectations(&self, require_status: bool) -> Expectations<'_> {
        Expectations {
            client_id: &self.client_id,
            nonce: &self.nonce,
            state: &self.state,
            accepted_vcts: &self.accepted_vcts,
            require_status,
            trust: &self.trust,
            session_key: &self.session_key,
            now: self.now,
        }
    }

    /// The wallet's answer to this session under `tamper`.
    pub fn answer(&self, tamper: Tamper) -> Answer {
        self.wallet
            .present_at(&self.request, tamper, self.now.timestamp())
    }

    /// Verifies `answer`'s `response` field as the desk's response endpoint would.
    pub async fn verify(
        &self,
        answer: &Answer,
        require_status: bool,
    ) -> Result<ProvenIdentity, Refusal> {
        let response = answer.response().expect("the answer has a response field");
        verify_response(response, &self.expectations(require_status), &self.status).await
    }

    /// The JWE's plaintext, opened with the session's scalar by the oracle's own code.
    pub fn open(&self, answer: &Answer) -> serde_json::Value {
        let scalar = self.session_key.to_bytes();
        let secret = p256::SecretKey::from_slice(&scalar).expect("a P-256 scalar");
        let plain = super::jose::decrypt_ecdh_es(answer.response().unwrap(), &secret)
            .expect("the oracle opens its own JWE");
        serde_json::from_slice(&plain).expect("JSON")
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
