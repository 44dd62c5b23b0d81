//! The desk's two kinds of key: the long-lived verifier key that signs request objects
//! (ES256, ring) and the per-session ECDH key that wallets encrypt their answer to (p256,
//! since ring cannot do ECDH with a stored private key).

use std::fmt;

use p256::elliptic_curve::sec1::ToSec1Point;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use zeroize::Zeroizing;

use super::error::ProtocolError;
use super::jose::b64;

/// The desk's ES256 key (P-256) with its DID and key id.
pub struct VerifierKey {
    did: String,
    pair: EcdsaKeyPair,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierKey")
            .field("kid", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl VerifierKey {
    /// A fresh key as PKCS#8 v1 (what ring makes), to be sealed by the caller.
    pub fn generate_pkcs8() -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| ProtocolError::Random)?;
        Ok(Zeroizing::new(document.as_ref().to_vec()))
    }

    pub fn from_pkcs8(did: &str, pkcs8: &[u8]) -> Result<Self, ProtocolError> {
        if !is_did(did) {
            return Err(ProtocolError::Did);
        }
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| ProtocolError::VerifierKey)?;
        Ok(Self {
            did: did.to_owned(),
            pair,
        })
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// `<did>#<fragment>`; the fragment is the key's JWK thumbprint (RFC 7638), so the
    /// operator's DID document and this key cannot drift apart silently.
    pub fn key_id(&self) -> String {
        let (x, y) = split_point(self.pair.public_key().as_ref());
        format!("{}#{}", self.did, jwk_thumbprint(x, y))
    }

    /// `decentralized_identifier:<did>` (OpenID4VP 1.0 §5.9.3).
    pub fn client_id(&self) -> String {
        format!("decentralized_identifier:{}", self.did)
    }

    /// The public key for the operator's DID document.
    pub fn public_jwk(&self) -> serde_json::Value {
        let (x, y) = split_point(self.pair.public_key().as_ref());
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
            "kid": self.key_id(), "use": "sig", "alg": "ES256",
        })
    }

    /// ES256 signature (fixed-length r‖s) over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| ProtocolError::Signing)
    }
}

/// A per-session ECDH P-256 key; the scalar is zeroized on drop (by p256's `SecretKey`).
pub struct SessionKey {
    secret: p256::SecretKey,
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the operating system cannot give random bytes, when no key could be made safely.
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.fill(bytes.as_mut())
                .expect("the operating system's random generator failed");
            // Out of range (zero or ≥ n) happens with probability ~2⁻³²: draw again.
            if let Ok(key) = Self::from_bytes(bytes.as_ref()) {
                return key;
            }
        }
    }

    /// The 32-byte scalar, for sealing under the master key.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.secret.to_bytes().to_vec())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() != 32 {
            return Err(ProtocolError::SessionKey);
        }
        let secret = p256::SecretKey::from_slice(bytes).map_err(|_| ProtocolError::SessionKey)?;
        Ok(Self { secret })
    }

    /// The public key for `client_metadata.jwks`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let point = self.public_point();
        let (x, y) = split_point(&point);
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
            "kid": self.key_id(), "use": "enc", "alg": "ECDH-ES",
        })
    }

    /// The JWK thumbprint of the public key, used as its `kid`.
    pub fn key_id(&self) -> String {
        let point = self.public_point();
        let (x, y) = split_point(&point);
        jwk_thumbprint(x, y)
    }

    pub(crate) fn secret(&self) -> &p256::SecretKey {
        &self.secret
    }

    fn public_point(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }
}

/// x and y of an uncompressed SEC1 point (`04 ‖ x ‖ y`).
fn split_point(point: &[u8]) -> (&[u8], &[u8]) {
    (&point[1..33], &point[33..65])
}

/// RFC 7638 thumbprint of a P-256 key: SHA-256 of the required members in lexical order.
pub(crate) fn jwk_thumbprint(x: &[u8], y: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        b64(x),
        b64(y)
    );
    b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
}

/// `did:<method>:<method-specific-id>` without a fragment, query or white space.
pub(crate) fn is_did(did: &str) -> bool {
    let mut parts = did.splitn(3, ':');
    let (Some("did"), Some(method), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !id.is_empty()
        && !did.bytes().any(|b| {
            matches!(b, b'#' | b'?' | b'/') || b.is_ascii_whitespace() || b.is_ascii_control()
        })
}
