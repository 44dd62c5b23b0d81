//! What the wallet reads from the verifier's request object (RFC 9101 JAR, OpenID4VP 1.0,
//! swiyu "Swiss Profile Verification" §5), checked as a careful wallet would before it shows
//! anything to its user.

use serde_json::Value;

use super::jose::{unb64, verify_es256, verifying_key};

pub const PROFILE_VERIFICATION: &str = "swiss-profile-verification:1.0.0";
const CLIENT_ID_PREFIX: &str = "decentralized_identifier:";

/// A request object whose signature and shape the wallet accepted.
#[derive(Debug, Clone)]
pub struct Request {
    pub header: Value,
    pub claims: Value,
    pub client_id: String,
    pub nonce: String,
    pub state: String,
    pub response_uri: String,
    /// The session's encryption key from `client_metadata.jwks` (the first P-256 key).
    pub encryption_jwk: Value,
    pub enc_values: Vec<String>,
    /// The id of the DCQL query's only credential query: the key of `vp_token`.
    pub query_id: String,
    /// The DCQL claims paths asked for, e.g. `[["given_name"], ["family_name"]]`.
    pub claim_paths: Vec<Vec<Value>>,
    pub vct_values: Vec<String>,
    /// The `did` trusted-authorities values.
    pub trusted_dids: Vec<String>,
}

/// Why the wallet did not accept a request object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejected(pub String);

fn rejected<T>(why: impl Into<String>) -> Result<T, RequestRejected> {
    Err(RequestRejected(why.into()))
}

fn text(value: &Value, what: &str) -> Result<String, RequestRejected> {
    match value.as_str() {
        Some(text) if !text.is_empty() => Ok(text.to_owned()),
        _ => rejected(format!("{what} is missing or not a string")),
    }
}

/// Verifies the compact JWS `jws` with the verifier's public JWK `verifier_jwk` and reads it.
pub fn read_request(jws: &str, verifier_jwk: &Value) -> Result<Request, RequestRejected> {
    let Some(key) = verifying_key(verifier_jwk) else {
        return rejected("the verifier's JWK is not a P-256 key");
    };
    let Some((header, claims)) = verify_es256(jws, &key) else {
        return rejected("the request object's ES256 signature does not verify");
    };
    check_header(&header, verifier_jwk)?;
    let client_id = text(&claims["client_id"], "client_id")?;
    check_client_id(&client_id, &header)?;
    for (name, expected) in [
        ("response_type", "vp_token"),
        ("response_mode", "direct_post.jwt"),
        ("aud", "https://self-issued.me/v2"),
    ] {
        if claims[name] != expected {
            return rejected(format!("{name} is {} instead of {expected}", claims[name]));
        }
    }
    let nonce = text(&claims["nonce"], "nonce")?;
    let state = text(&claims["state"], "state")?;
    for (name, value) in [("nonce", &nonce), ("state", &state)] {
        if unb64(value).is_none_or(|bytes| bytes.len() < 16) {
            return rejected(format!("{name} is not ≥ 128 bits of base64url"));
        }
    }
    let response_uri = text(&claims["response_uri"], "response_uri")?;
    if url::Url::parse(&response_uri).is_err() {
        return rejected("response_uri is not an absolute URL");
    }
    let (encryption_jwk, enc_values) = read_client_metadata(&claims["client_metadata"])?;
    let query = read_dcql(&claims["dcql_query"])?;
    Ok(Request {
        header,
        client_id,
        nonce,
        state,
        response_uri,
        encryption_jwk,
        enc_values,
        query_id: query.0,
        claim_paths: query.1,
        vct_values: query.2,
        trusted_dids: query.3,
        claims,
    })
}

fn check_header(header: &Value, verifier_jwk: &Value) -> Result<(), RequestRejected> {
    if header["typ"] != "oauth-authz-req+jwt" {
        return rejected(format!("typ is {}", header["typ"]));
    }
    if header["profile_version"] != PROFILE_VERIFICATION {
        return rejected(format!("profile_version is {}", header["profile_version"]));
    }
    let kid = text(&header["kid"], "kid")?;
    if verifier_jwk.get("kid").is_some_and(|k| k != &kid) {
        return rejected("kid is not the verifier key's");
    }
    match kid.split_once('#') {
        Some((did, fragment))
            if did.starts_with("did:") && !fragment.is_empty() && !fragment.contains('#') =>
        {
            Ok(())
        }
        _ => rejected("kid is not an absolute <did>#<key> identifier"),
    }
}

/// Swiss Profile Verification §5: `client_id` without its `decentralized_identifier:` prefix
/// is the DID of the `kid`.
fn check_client_id(client_id: &str, header: &Value) -> Result<(), RequestRejected> {
    let Some(did) = client_id.strip_prefix(CLIENT_ID_PREFIX) else {
        return rejected("client_id lacks the decentralized_identifier: prefix");
    };
    let kid = header["kid"].as_str().unwrap_or("");
    if kid.split('#').next() != Some(did) {
        return rejected("client_id is not the DID of the signing key");
    }
    Ok(())
}

fn read_client_metadata(metadata: &Value) -> Result<(Value, Vec<String>), RequestRejected> {
    let keys = metadata["jwks"]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(key) = keys.into_iter().find(|k| verifying_key(k).is_some()) else {
        return rejected("client_metadata.jwks has no P-256 key");
    };
    let enc_values: Vec<String> = metadata["encrypted_response_enc_values_supported"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !enc_values.iter().any(|v| v == "A256GCM") {
        return rejected("encrypted_response_enc_values_supported lacks A256GCM");
    }
    Ok((key, enc_values))
}

type Query = (String, Vec<Vec<Value>>, Vec<String>, Vec<String>);

/// DCQL (OpenID4VP 1.0 §6): one credential query (`multiple` is not supported by the profile)
/// of format `dc+sd-jwt`.
fn read_dcql(dcql: &Value) -> Result<Query, RequestRejected> {
    let credentials = dcql["credentials"].as_array().cloned().unwrap_or_default();
    let [query] = &credentials[..] else {
        return rejected("the DCQL query does not ask for exactly one credential");
    };
    if query["format"] != "dc+sd-jwt" {
        return rejected("the DCQL query's format is not dc+sd-jwt");
    }
    let id = text(&query["id"], "the credential query's id")?;
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let vcts = strings(&query["meta"]["vct_values"]);
    let paths: Vec<Vec<Value>> = query["claims"]
        .as_array()
        .map(|claims| {
            claims
                .iter()
                .filter_map(|c| c["path"].as_array().cloned())
                .collect()
        })
        .unwrap_or_default();
    if vcts.is_empty() || paths.is_empty() {
        return rejected("the DCQL query names no vct or no claims");
    }
    let dids = query["trusted_authorities"]
        .as_array()
        .map(|authorities| {
            authorities
                .iter()
                .filter(|a| a["type"] == "did")
                .flat_map(|a| strings(&a["values"]))
                .collect()
        })
        .unwrap_or_default();
    Ok((id, paths, vcts, dids))
}

/// The `swiyu-verify://?client_id=…&request_uri=…` (or `openid4vp://`) link's two parameters.
pub fn read_link(link: &str) -> Result<(String, String), RequestRejected> {
    let Some((scheme, query)) = link.split_once("://?") else {
        return rejected("the link is not <scheme>://?<query>");
    };
    if scheme != "swiyu-verify" && scheme != "openid4vp" {
        return rejected(format!("the scheme {scheme} is not a wallet's"));
    }
    let (mut client_id, mut request_uri) = (None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "client_id" => client_id = Some(value.into_owned()),
            "request_uri" => request_uri = Some(value.into_owned()),
            _ => {}
        }
    }
    match (client_id, request_uri) {
        (Some(client_id), Some(request_uri)) => Ok((client_id, request_uri)),
        _ => rejected("the link lacks client_id or request_uri"),
    }
}
