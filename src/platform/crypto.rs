//! Envelope encryption of identity documents and the secrets around them.
//!
//! Every document is sealed with AES-256-GCM under its own random data key; the data key is
//! wrapped (also AES-256-GCM) by the master key, which lives outside the database. The
//! associated data binds each ciphertext to its request, document and key version, so a
//! blob moved to another document, or a wrapped key moved to another row, fails to open.

use std::fmt;

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;
/// Version of the sealed-blob layout (`nonce ‖ ciphertext ‖ tag`) and of the AAD layout.
pub const FORMAT_VERSION: u8 = 1;
pub const ALGORITHM: &str = "AES-256-GCM";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the system random generator failed")]
    Random,
    #[error("the ciphertext is damaged or does not belong here")]
    Open,
    #[error("a key must be {KEY_LEN} bytes")]
    KeyLength,
    #[error("the key is not valid base64")]
    KeyEncoding,
}

/// Fills a fresh array from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// HKDF-SHA256 of `ikm` into `N` bytes.
pub fn hkdf_sha256<const N: usize>(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
) -> Result<Zeroizing<[u8; N]>, CryptoError> {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let mut out = Zeroizing::new([0u8; N]);
    ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&[info], Len(N))
        .and_then(|okm| okm.fill(out.as_mut_slice()))
        .map_err(|_| CryptoError::KeyLength)?;
    Ok(out)
}

/// Seals `plaintext` as `nonce ‖ ciphertext ‖ tag` with a random nonce.
pub fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = aead_key(key)?;
    let nonce_bytes = random_bytes::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(NONCE_LEN);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| CryptoError::Open)?;
    out.append(&mut body);
    Ok(out)
}

/// Opens what [`seal`] produced; any change to the key, the AAD or a single bit fails.
pub fn open(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(CryptoError::Open);
    }
    let key = aead_key(key)?;
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| CryptoError::Open)?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

fn aead_key(key: &[u8; KEY_LEN]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::KeyLength)
}

/// What a document's ciphertext and wrapped key are bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentBinding {
    pub request_id: Uuid,
    pub document_id: Uuid,
    pub key_version: u32,
}

impl DocumentBinding {
    /// AAD of the document ciphertext: format version ‖ request id ‖ document id ‖ key version.
    pub fn document_aad(&self) -> Vec<u8> {
        self.aad(b"td-doc")
    }

    /// AAD of what was read from the document's machine-readable zone (sealed under the same
    /// data key, so that it is shredded with the document).
    fn zone_aad(&self) -> Vec<u8> {
        self.aad(b"td-zone")
    }

    /// AAD of the wrapped data key; a distinct label so one can never stand for the other.
    fn wrap_aad(&self) -> Vec<u8> {
        self.aad(b"td-key")
    }

    fn aad(&self, label: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(label.len() + 1 + 16 + 16 + 4);
        aad.extend_from_slice(label);
        aad.push(FORMAT_VERSION);
        aad.extend_from_slice(self.request_id.as_bytes());
        aad.extend_from_slice(self.document_id.as_bytes());
        aad.extend_from_slice(&self.key_version.to_be_bytes());
        aad
    }
}

/// A stored document's bytes once AES-GCM has authenticated them: what this service wrote.
/// Only [`DataKey::open_document`] makes one, and libjpeg-turbo's decoder takes nothing else
/// (`intake::jpeg::decode_own_rgb`), so an upload cannot reach C code. Zeroed on drop.
pub struct OpenedDocument(Zeroizing<Vec<u8>>);

impl fmt::Debug for OpenedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenedDocument({} bytes)", self.0.len())
    }
}

impl std::ops::Deref for OpenedDocument {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A document's own key. Zeroed on drop; `Debug` prints nothing of it.
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl DataKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(random_bytes()?)))
    }

    pub fn seal_document(
        &self,
        binding: &DocumentBinding,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.0, &binding.document_aad(), plaintext)
    }

    pub fn open_document(
        &self,
        binding: &DocumentBinding,
        sealed: &[u8],
    ) -> Result<OpenedDocument, CryptoError> {
        open(&self.0, &binding.document_aad(), sealed).map(OpenedDocument)
    }

    pub fn seal_zone(
        &self,
        binding: &DocumentBinding,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.0, &binding.zone_aad(), plaintext)
    }

    pub fn open_zone(
        &self,
        binding: &DocumentBinding,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(&self.0, &binding.zone_aad(), sealed)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

fn secret_aad(context: &[u8]) -> Vec<u8> {
    [b"transfer-desk secret v1\0".as_slice(), context].concat()
}

/// The key-encryption key. Lives in a file (mode 0600) or the environment, never the database.
pub struct MasterKey {
    version: u32,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    pub fn new(version: u32, key: [u8; KEY_LEN]) -> Self {
        Self {
            version,
            key: Zeroizing::new(key),
        }
    }

    pub fn generate(version: u32) -> Result<Self, CryptoError> {
        Ok(Self::new(version, random_bytes()?))
    }

    pub fn from_base64(version: u32, encoded: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| CryptoError::KeyEncoding)?,
        );
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::KeyLength)?;
        Ok(Self::new(version, key))
    }

    /// The key of the service's encrypted cookies, derived so that every instance given the
    /// same master key (several behind one load balancer) reads the others' cookies.
    pub fn cookie_secret(&self) -> Result<Zeroizing<String>, CryptoError> {
        let bytes: Zeroizing<[u8; 64]> =
            hkdf_sha256(self.key.as_slice(), b"transfer-desk", b"cookie secret v1")?;
        Ok(Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(*bytes),
        ))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*self.key))
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn wrap(
        &self,
        data_key: &DataKey,
        binding: &DocumentBinding,
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.key, &binding.wrap_aad(), data_key.0.as_slice())
    }

    /// Seals a short secret (a link waiting in the outbox) under the master key, bound to
    /// `context` so that it opens only where it was sealed.
    pub fn seal_secret(&self, context: &[u8], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&self.key, &secret_aad(context), secret)
    }

    pub fn open_secret(
        &self,
        context: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(&self.key, &secret_aad(context), sealed)
    }

    pub fn unwrap(
        &self,
        wrapped: &[u8],
        binding: &DocumentBinding,
    ) -> Result<DataKey, CryptoError> {
        let bytes = open(&self.key, &binding.wrap_aad(), wrapped)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::KeyLength)?;
        Ok(DataKey(Zeroizing::new(key)))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(version {})", self.version)
    }
}

/// A secret of 256 random bits, base64url: what every private link and session is made of.
/// Only its SHA-256 is stored. `Debug` prints nothing of it, so it cannot slip into a log.
#[derive(Clone, PartialEq, Eq)]
struct Token(Zeroizing<String>);

impl Token {
    fn generate() -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(random_bytes::<32>()?);
        Ok(Self(Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*bytes),
        )))
    }

    /// Accepts only what `generate` can produce (43 base64url characters).
    fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(Zeroizing::new(text.to_owned())))
    }
}

/// One token type per door, so that the type says which door a token opens: a holder's
/// token can never be taken for a tracking token, nor a password link for a session.
macro_rules! tokens {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Token);

        impl $name {
            pub fn generate() -> Result<Self, CryptoError> {
                Token::generate().map(Self)
            }

            /// Accepts only what `generate` can produce (43 base64url characters).
            pub fn parse(text: &str) -> Option<Self> {
                Token::parse(text).map(Self)
            }

            pub fn hash(&self) -> [u8; 32] {
                sha256(self.0 .0.as_bytes())
            }

            /// The token itself, for the one place that must show or send it.
            pub fn expose(&self) -> &str {
                &self.0 .0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    )+};
}

tokens!(
    /// The requester's private tracking link (and the API's bearer token).
    TrackingToken,
    /// The holder's private link, mailed to the holder alone.
    HolderToken,
    /// The registrant's "this was not me" link, mailed with the approval notice.
    ObjectionToken,
    /// A one-time link that sets a reviewer's password (the first admin's, an invitation,
    /// a reset).
    PasswordLinkToken,
    /// A reviewer's session, in its cookie.
    SessionToken,
    /// The per-visitor secret that forms carry.
    FormSecret,
    /// A passkey ceremony under way, held by the browser until its passkey answers.
    CeremonyToken,
    /// The secret of the browser that started an e-ID session, in its cookie.
    EidBrowserBinding,
    /// The code a same-device wallet's redirect brings back to that browser.
    EidResponseCode,
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn binding() -> DocumentBinding {
        DocumentBinding {
            request_id: Uuid::new_v4(),
            document_id: Uuid::new_v4(),
            key_version: 1,
        }
    }

    proptest! {
        #[test]
        fn sealed_documents_open_to_what_was_sealed(plaintext in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let key = DataKey::generate().unwrap();
            let b = binding();
            let sealed = key.seal_document(&b, &plaintext).unwrap();
            let opened = key.open_document(&b, &sealed).unwrap();
            prop_assert_eq!(&*opened, plaintext.as_slice());
        }

        #[test]
        fn any_flipped_bit_is_refused(plaintext in proptest::collection::vec(any::<u8>(), 1..512), bit in any::<usize>()) {
            let key = DataKey::generate().unwrap();
            let b = binding();
            let mut sealed = key.seal_document(&b, &plaintext).unwrap();
            let bit = bit % (sealed.len() * 8);
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(key.open_document(&b, &sealed).unwrap_err(), CryptoError::Open);
        }

        /// A sealed zone opens only as a zone of its own document: never as the document's
        /// photo, nor as another document's zone.
        #[test]
        fn sealed_zones_open_only_as_their_documents_zone(plaintext in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let key = DataKey::generate().unwrap();
            let b = binding();
            let sealed = key.seal_zone(&b, &plaintext).unwrap();
            let opened = key.open_zone(&b, &sealed).unwrap();
            prop_assert_eq!(&*opened, plaintext.as_slice());
            prop_assert!(key.open_document(&b, &sealed).is_err());
            let other = DocumentBinding { document_id: Uuid::new_v4(), ..b };
            prop_assert!(key.open_zone(&other, &sealed).is_err());
            let photo = key.seal_document(&b, &plaintext).unwrap();
            prop_assert!(key.open_zone(&b, &photo).is_err());
        }

        #[test]
        fn wrapped_keys_unwrap_only_for_their_own_binding(version in 1u32..5) {
            let master = MasterKey::generate(version).unwrap();
            let data_key = DataKey::generate().unwrap();
            let b = DocumentBinding { key_version: version, ..binding() };
            let wrapped = master.wrap(&data_key, &b).unwrap();
            let unwrapped = master.unwrap(&wrapped, &b).unwrap();
            prop_assert_eq!(*unwrapped.0, *data_key.0);
            let other = DocumentBinding { document_id: Uuid::new_v4(), ..b };
            prop_assert!(master.unwrap(&wrapped, &other).is_err());
        }
    }

    #[test]
    fn a_blob_moved_to_another_document_does_not_open() {
        let key = DataKey::generate().unwrap();
        let b = binding();
        let sealed = key.seal_document(&b, b"front of the card").unwrap();
        for other in [
            DocumentBinding {
                request_id: Uuid::new_v4(),
                ..b
            },
            DocumentBinding {
                document_id: Uuid::new_v4(),
                ..b
            },
            DocumentBinding {
                key_version: 2,
                ..b
            },
        ] {
            assert_eq!(
                key.open_document(&other, &sealed).unwrap_err(),
                CryptoError::Open
            );
        }
    }

    #[test]
    fn a_document_ciphertext_is_not_a_wrapped_key() {
        let master = MasterKey::generate(1).unwrap();
        let b = binding();
        let forged = seal(&master.key, &b.document_aad(), &[7u8; KEY_LEN]).unwrap();
        assert!(master.unwrap(&forged, &b).is_err());
    }

    #[test]
    fn master_key_survives_base64_and_rejects_wrong_lengths() {
        let master = MasterKey::generate(1).unwrap();
        let again = MasterKey::from_base64(1, &master.to_base64()).unwrap();
        assert_eq!(*again.key, *master.key);
        assert_eq!(
            MasterKey::from_base64(1, "c2hvcnQ=").unwrap_err(),
            CryptoError::KeyLength
        );
        assert_eq!(
            MasterKey::from_base64(1, "not base64!").unwrap_err(),
            CryptoError::KeyEncoding
        );
    }

    #[test]
    fn tracking_tokens_are_256_bit_and_debug_hides_them() {
        let token = TrackingToken::generate().unwrap();
        assert_eq!(token.expose().len(), 43);
        assert!(TrackingToken::parse(token.expose()).is_some());
        assert!(!format!("{token:?}").contains(token.expose()));
        assert_ne!(token, TrackingToken::generate().unwrap());
        assert!(TrackingToken::parse("short").is_none());
        assert!(TrackingToken::parse(&"a/".repeat(22)[..43]).is_none());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        assert_eq!(format!("{:?}", DataKey::generate().unwrap()), "DataKey(..)");
        assert_eq!(
            format!("{:?}", MasterKey::generate(3).unwrap()),
            "MasterKey(version 3)"
        );
    }
}
