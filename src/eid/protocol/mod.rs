//! The OpenID4VP verifier protocol of the Swiss e-ID (swiyu "Swiss Profile Verification"):
//! the signed request object, the decryption of the wallet's answer and the verification of
//! the SD-JWT VC presentation in it. Pure code: no database, no HTTP server; the status list
//! is fetched through [`StatusListSource`].

mod credential;
mod disclosures;
mod error;
mod jose;
mod json;
mod jwe;
mod key_binding;
mod keys;
mod request;
mod status;
#[cfg(test)]
mod test_support;
mod trust;
mod verify;

pub use error::{ProtocolError, Refusal, StatusFetchError};
pub use keys::{SessionKey, VerifierKey};
pub use request::{
    request_object, AuthorizationRequest, CREDENTIAL_QUERY_ID, PROFILE_VERSION, REQUESTED_CLAIMS,
};
pub use trust::TrustList;

/// Where status list tokens come from (eid-web implements it over HTTPS with a size cap and a
/// timeout; tests implement it in memory or with a loopback server).
pub trait StatusListSource {
    fn fetch(
        &self,
        uri: &str,
    ) -> impl std::future::Future<Output = Result<String, StatusFetchError>> + Send;
}

/// What the session expects of the answer.
pub struct Expectations<'a> {
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub state: &'a str,
    pub accepted_vcts: &'a [String],
    /// `TRANSFER_DESK_EID_REQUIRE_STATUS`, default true.
    pub require_status: bool,
    pub trust: &'a TrustList,
    pub session_key: &'a SessionKey,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// What a verified answer proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenIdentity {
    pub given_name: String,
    pub family_name: String,
    pub issuer_did: String,
    pub vct: String,
    /// SHA-256 of the issuer-signed JWT (the part before the first '~').
    pub credential_digest: [u8; 32],
}

/// Verifies the wallet's answer. `response` is the value of the `response` field of the
/// wallet's application/x-www-form-urlencoded POST (a compact JWE). Fails closed.
pub async fn verify_response<S: StatusListSource + Sync>(
    response: &str,
    expectations: &Expectations<'_>,
    status: &S,
) -> Result<ProvenIdentity, Refusal> {
    verify::run(response, expectations, status).await
}
