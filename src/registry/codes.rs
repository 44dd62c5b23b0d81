//! Transfer Authorization Codes (RFC 9154): random, short-lived, readable only by the
//! holder of the tracking link.
//!
//! At submission the tracking token is known for a moment: an X25519 key pair is derived
//! from it (HKDF) and only the public half is stored. At approval the code is sealed to
//! that public key with a fresh ephemeral key; opening it needs the private half, that is
//! the token. The server, which keeps only the token's hash, cannot read the code back.

use std::fmt;

use uuid::Uuid;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::platform::crypto::{self, CryptoError, TrackingToken, KEY_LEN};

/// Letters and digits only: every registry accepts them.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// 26 characters of a 62-symbol alphabet: log2(62^26) ≈ 154 bits of entropy.
pub const CODE_LEN: usize = 26;
pub const SALT_LEN: usize = 16;
pub const VALIDITY_DAYS: i64 = 14;

/// A transfer code in memory. Zeroed on drop; `Debug` prints nothing of it.
pub struct TransferCode(Zeroizing<String>);

impl TransferCode {
    /// Draws each character from the system CSPRNG by rejection sampling (no modulo bias).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut code = String::with_capacity(CODE_LEN);
        while code.len() < CODE_LEN {
            for byte in crypto::random_bytes::<32>()? {
                // 248 = 4 × 62: bytes at or above it would bias the first symbols.
                if byte < 248 && code.len() < CODE_LEN {
                    code.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
                }
            }
        }
        Ok(Self(Zeroizing::new(code)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Salted SHA-256, kept for verification and the audit.
    pub fn salted_hash(&self, salt: &[u8]) -> [u8; 32] {
        let mut input = Zeroizing::new(salt.to_vec());
        input.extend_from_slice(self.0.as_bytes());
        crypto::sha256(&input)
    }

    pub fn matches(&self, salt: &[u8], hash: &[u8]) -> bool {
        self.salted_hash(salt).as_slice() == hash
    }

    /// Seals the code to the request's recipient key (see the module documentation).
    pub fn seal_to(
        &self,
        recipient: &RecipientKey,
        request_id: Uuid,
    ) -> Result<Vec<u8>, CryptoError> {
        let ephemeral = StaticSecret::from(*Zeroizing::new(crypto::random_bytes::<32>()?));
        let ephemeral_public = PublicKey::from(&ephemeral);
        let shared = ephemeral.diffie_hellman(&PublicKey::from(recipient.0));
        let key = derive(shared.as_bytes(), request_id, b"transfer-desk code seal v1")?;
        let mut out = ephemeral_public.as_bytes().to_vec();
        out.extend(crypto::seal(
            &key,
            request_id.as_bytes(),
            self.0.as_bytes(),
        )?);
        Ok(out)
    }

    /// Opens a sealed code with the tracking token of its request.
    pub fn open_with(
        token: &TrackingToken,
        request_id: Uuid,
        sealed: &[u8],
    ) -> Result<Self, CryptoError> {
        if sealed.len() < 32 {
            return Err(CryptoError::Open);
        }
        let (ephemeral_public, body) = sealed.split_at(32);
        let ephemeral_public: [u8; 32] =
            ephemeral_public.try_into().map_err(|_| CryptoError::Open)?;
        let secret = recipient_secret(token, request_id)?;
        let shared = secret.diffie_hellman(&PublicKey::from(ephemeral_public));
        let key = derive(shared.as_bytes(), request_id, b"transfer-desk code seal v1")?;
        let plain = crypto::open(&key, request_id.as_bytes(), body)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Open)?;
        Ok(Self(Zeroizing::new(text)))
    }
}

/// The public key a request's code is sealed to; derived from the tracking token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientKey(pub [u8; 32]);

impl RecipientKey {
    pub fn for_token(token: &TrackingToken, request_id: Uuid) -> Result<Self, CryptoError> {
        Ok(Self(
            PublicKey::from(&recipient_secret(token, request_id)?).to_bytes(),
        ))
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

fn recipient_secret(token: &TrackingToken, request_id: Uuid) -> Result<StaticSecret, CryptoError> {
    let bytes = derive(
        token.expose().as_bytes(),
        request_id,
        b"transfer-desk code recipient v1",
    )?;
    Ok(StaticSecret::from(*bytes))
}

impl fmt::Debug for TransferCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransferCode(..)")
    }
}

fn derive(
    ikm: &[u8],
    request_id: Uuid,
    info: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    crate::platform::crypto::hkdf_sha256(ikm, request_id.as_bytes(), info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_have_at_least_128_bits_from_an_accepted_alphabet() {
        let bits = CODE_LEN as f64 * (ALPHABET.len() as f64).log2();
        assert!(bits >= 128.0, "{bits}");
        let code = TransferCode::generate().unwrap();
        assert_eq!(code.expose().len(), CODE_LEN);
        assert!(code.expose().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(code.expose(), TransferCode::generate().unwrap().expose());
        assert_eq!(format!("{code:?}"), "TransferCode(..)");
    }

    #[test]
    fn every_symbol_turns_up() {
        let mut seen = [false; 128];
        for _ in 0..200 {
            for b in TransferCode::generate().unwrap().expose().bytes() {
                seen[usize::from(b)] = true;
            }
        }
        assert!(ALPHABET.iter().all(|&b| seen[usize::from(b)]));
    }

    #[test]
    fn the_hash_is_salted() {
        let code = TransferCode::generate().unwrap();
        let hash = code.salted_hash(b"salt one");
        assert!(code.matches(b"salt one", &hash));
        assert!(!code.matches(b"salt two", &hash));
    }

    proptest! {
        #[test]
        fn only_the_right_token_and_request_open_the_code(_seed in 0u8..8) {
            let token = TrackingToken::generate().unwrap();
            let request = Uuid::new_v4();
            let code = TransferCode::generate().unwrap();
            let recipient = RecipientKey::for_token(&token, request).unwrap();
            let sealed = code.seal_to(&recipient, request).unwrap();
            let opened = TransferCode::open_with(&token, request, &sealed).unwrap();
            prop_assert_eq!(opened.expose(), code.expose());
            prop_assert!(TransferCode::open_with(&TrackingToken::generate().unwrap(), request, &sealed).is_err());
            prop_assert!(TransferCode::open_with(&token, Uuid::new_v4(), &sealed).is_err());
        }
    }
}
