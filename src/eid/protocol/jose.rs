//! The small pieces of JOSE that the protocol needs: strict base64url and JSON, compact JWS
//! (RFC 7515) with ES256 only, and P-256 public keys as JWKs (RFC 7517/7518).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{Map, Value};

use super::json::parse_strict;

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url without padding, strictly (RFC 7515 §2): padding or other alphabets are refused.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// A P-256 public key as an uncompressed SEC1 point, checked to lie on the curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EcKey([u8; 65]);

impl EcKey {
    /// Reads `kty` EC, `crv` P-256, `x` and `y` (32 bytes each) and refuses points off the
    /// curve. A JWK carrying a private part (`d`) is refused: it has no business here.
    pub(crate) fn from_jwk(jwk: &Value) -> Option<Self> {
        let jwk = jwk.as_object()?;
        if jwk.get("kty")?.as_str()? != "EC"
            || jwk.get("crv")?.as_str()? != "P-256"
            || jwk.contains_key("d")
        {
            return None;
        }
        let x = unb64(jwk.get("x")?.as_str()?)?;
        let y = unb64(jwk.get("y")?.as_str()?)?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = [0u8; 65];
        point[0] = 4;
        point[1..33].copy_from_slice(&x);
        point[33..].copy_from_slice(&y);
        p256::PublicKey::from_sec1_bytes(&point).ok()?;
        Some(Self(point))
    }

    pub(crate) fn sec1(&self) -> &[u8; 65] {
        &self.0
    }

    /// ES256 with the fixed-length r‖s signature of JWS (RFC 7518 §3.4).
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.0[..])
            .verify(message, signature)
            .is_ok()
    }
}

/// A compact JWS, parsed but not yet verified.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.payload` as received: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Why a compact JWS was not accepted; callers turn it into their own refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsError {
    Malformed,
    /// `alg` other than ES256 (including `none`), or a `crit` header we do not understand.
    Algorithm(String),
    /// `typ` other than the one expected.
    Type(String),
}

impl<'a> Jws<'a> {
    /// Parses `header.payload.signature`, requiring `alg` ES256, `typ` among `types`, no `crit`
    /// and JSON objects without duplicate members on both sides.
    pub(crate) fn parse(token: &'a str, types: &[&str]) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let header = decode_object(header).ok_or(JwsError::Malformed)?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg != "ES256" {
            return Err(JwsError::Algorithm(alg.to_owned()));
        }
        if header.contains_key("crit") {
            return Err(JwsError::Algorithm("crit".to_owned()));
        }
        let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
        if !types.contains(&typ) {
            return Err(JwsError::Type(typ.to_owned()));
        }
        let claims = decode_object(payload).ok_or(JwsError::Malformed)?;
        let signature = unb64(signature).ok_or(JwsError::Malformed)?;
        let signing_input = token.rsplit_once('.').map_or("", |(input, _)| input);
        Ok(Self {
            header,
            claims,
            signing_input,
            signature,
        })
    }

    pub(crate) fn verified_by(&self, key: &EcKey) -> bool {
        key.verifies(self.signing_input.as_bytes(), &self.signature)
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// A base64url segment holding a JSON object.
pub(crate) fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    match parse_strict(&unb64(segment)?)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Signs `header.payload` with `sign` and returns the compact JWS.
pub(crate) fn compact_jws<E>(
    header: &Value,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<String, E> {
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// A NumericDate claim (RFC 7519 §2), in whole seconds.
pub(crate) fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, ()> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or(()),
        Some(_) => Err(()),
    }
}
