//! The signed request object (JAR, RFC 9101) that the wallet fetches at `request_uri`,
//! shaped as the swiyu "Swiss Profile Verification" 1.0 asks.

use chrono::Duration;
use serde_json::{json, Value};

use super::error::ProtocolError;
use super::jose::compact_jws;
use super::keys::{is_did, SessionKey, VerifierKey};

/// The `profile_version` of the request object's header (Swiss Profile Verification §5).
pub const PROFILE_VERSION: &str = "swiss-profile-verification:1.0.0";
/// The DCQL credential query's id: the key of the answer's `vp_token` object.
pub const CREDENTIAL_QUERY_ID: &str = "identity";
/// The only claims the desk asks for.
pub const REQUESTED_CLAIMS: [&str; 2] = ["given_name", "family_name"];
/// How long the request object itself is valid (a session lasts as long).
const LIFETIME: Duration = Duration::minutes(15);

/// One session's request.
pub struct AuthorizationRequest<'a> {
    /// Absolute https URL, one per session.
    pub response_uri: &'a str,
    /// ≥ 128 bits, base64url.
    pub nonce: &'a str,
    /// ≥ 128 bits, base64url.
    pub state: &'a str,
    /// Shown in the wallet, e.g. "transfer code for example.ch" (in the requester's language).
    pub purpose: &'a str,
    pub accepted_vcts: &'a [String],
    pub trusted_issuer_dids: &'a [String],
    pub session_key: &'a SessionKey,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The signed request object (compact JWS, typ oauth-authz-req+jwt), served at request_uri
/// with content type application/oauth-authz-req+jwt.
pub fn request_object(
    verifier: &VerifierKey,
    request: &AuthorizationRequest<'_>,
) -> Result<String, ProtocolError> {
    check(request)?;
    let header = json!({
        "alg": "ES256",
        "typ": "oauth-authz-req+jwt",
        "kid": verifier.key_id(),
        "profile_version": PROFILE_VERSION,
    });
    let client_id = verifier.client_id();
    let claims = json!({
        "iss": client_id,
        "aud": "https://self-issued.me/v2",
        "iat": request.now.timestamp(),
        "exp": (request.now + LIFETIME).timestamp(),
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": request.response_uri,
        "nonce": request.nonce,
        "state": request.state,
        "dcql_query": dcql_query(request),
        "client_metadata": client_metadata(request),
        // The federal verifier also gives it beside client_metadata; wallets read either.
        "encrypted_response_enc_values_supported": ["A256GCM"],
    });
    compact_jws(&header, &claims, |input| verifier.sign(input))
}

/// Names only, from a credential of an accepted type by an accepted issuer, bound to the
/// holder's key (OpenID4VP 1.0 §6; the `did` trusted authority of the Swiss profile §6.1.1).
fn dcql_query(request: &AuthorizationRequest<'_>) -> Value {
    let claims: Vec<Value> = REQUESTED_CLAIMS
        .iter()
        .map(|name| json!({ "path": [name] }))
        .collect();
    json!({
        "credentials": [{
            "id": CREDENTIAL_QUERY_ID,
            "format": "dc+sd-jwt",
            "meta": { "vct_values": request.accepted_vcts },
            "claims": claims,
            "trusted_authorities": [{ "type": "did", "values": request.trusted_issuer_dids }],
            "require_cryptographic_holder_binding": true,
        }]
    })
}

/// The session's encryption key and what the wallet shows as who asks (Swiss profile §11:
/// `client_name`; DCQL has no purpose member, so the purpose is the name shown).
/// `vp_formats_supported` is left out: the Swiss profile §5.1 does not support it.
fn client_metadata(request: &AuthorizationRequest<'_>) -> Value {
    json!({
        "client_name": request.purpose,
        "jwks": { "keys": [request.session_key.public_jwk()] },
        "encrypted_response_enc_values_supported": ["A256GCM"],
    })
}

fn check(request: &AuthorizationRequest<'_>) -> Result<(), ProtocolError> {
    if !is_response_uri(request.response_uri) {
        return Err(ProtocolError::Request(
            "response_uri is not an absolute https URL",
        ));
    }
    if !is_fresh_token(request.nonce) || !is_fresh_token(request.state) {
        return Err(ProtocolError::Request(
            "nonce and state need ≥ 128 bits of base64url",
        ));
    }
    if request.purpose.trim().is_empty() {
        return Err(ProtocolError::Request("the purpose is empty"));
    }
    if request.accepted_vcts.is_empty() || request.accepted_vcts.iter().any(String::is_empty) {
        return Err(ProtocolError::Request("no accepted vct"));
    }
    if request.trusted_issuer_dids.is_empty()
        || !request.trusted_issuer_dids.iter().all(|did| is_did(did))
    {
        return Err(ProtocolError::Request("no trusted issuer DID"));
    }
    Ok(())
}

/// https, or http to the loopback interface (the tests' servers).
fn is_response_uri(uri: &str) -> bool {
    let rest = if let Some(rest) = uri.strip_prefix("https://") {
        rest
    } else if let Some(rest) = uri.strip_prefix("http://") {
        let loopback = ["localhost", "127.0.0.1", "[::1]"].iter().any(|host| {
            rest.strip_prefix(host)
                .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
        });
        if !loopback {
            return false;
        }
        rest
    } else {
        return false;
    };
    !rest.is_empty()
        && !rest.starts_with(['/', ':'])
        && !uri.contains(['#', ' ', '"', '\\'])
        && !uri.bytes().any(|b| b.is_ascii_control())
}

/// 22 base64url characters carry 132 bits.
fn is_fresh_token(token: &str) -> bool {
    token.len() >= 22
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
