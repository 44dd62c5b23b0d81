//! A small issuer, holder and wallet for this module's unit tests (the integration tests have
//! their own, written apart from this code).

use std::collections::HashMap;
use std::io::Write;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Map, Value};

use super::jose::{b64, compact_jws, unb64, EcKey};
use super::jwe::concat_kdf;
use super::keys::SessionKey;
use super::{StatusFetchError, StatusListSource};

/// How the test wallet encrypts; the default is what the desk asks for.
pub(crate) struct Encryption {
    pub alg: String,
    pub enc: String,
    pub zip: bool,
    pub zip_header: Option<String>,
    pub kid: bool,
    pub epk_off_curve: bool,
}

impl Default for Encryption {
    fn default() -> Self {
        Self {
            alg: "ECDH-ES".into(),
            enc: "A256GCM".into(),
            zip: false,
            zip_header: None,
            kid: true,
            epk_off_curve: false,
        }
    }
}

/// A compact JWE of `plaintext` to `recipient` (a public JWK with `kid`).
pub(crate) fn encrypt(plaintext: &[u8], recipient: &Value, options: &Encryption) -> String {
    let recipient_key = EcKey::from_jwk(recipient).unwrap();
    let recipient_key = p256::PublicKey::from_sec1_bytes(recipient_key.sec1()).unwrap();
    let ephemeral = SessionKey::generate();
    let mut epk = ephemeral.public_jwk();
    let epk = epk.as_object_mut().unwrap();
    epk.retain(|name, _| ["kty", "crv", "x", "y"].contains(&name.as_str()));
    if options.epk_off_curve {
        let mut y = unb64(epk["y"].as_str().unwrap()).unwrap();
        y[31] ^= 1;
        epk.insert("y".into(), b64(&y).into());
    }
    let mut header = json!({ "alg": options.alg, "enc": options.enc, "epk": epk });
    if options.kid {
        header["kid"] = recipient["kid"].clone();
    }
    let body = if options.zip {
        header["zip"] = "DEF".into();
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(plaintext).unwrap();
        encoder.finish().unwrap()
    } else {
        plaintext.to_vec()
    };
    if let Some(zip) = &options.zip_header {
        header["zip"] = zip.as_str().into();
    }
    let shared = ephemeral.secret().diffie_hellman(&recipient_key);
    let cek = concat_kdf::<32>(
        shared.raw_secret_bytes().as_slice(),
        options.enc.as_bytes(),
        b"",
        b"",
    );
    let protected = b64(header.to_string().as_bytes());
    let iv = [7u8; 12];
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek.as_ref()).unwrap());
    let mut sealed = body;
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut sealed,
        )
        .unwrap();
    format!(
        "{protected}..{}.{}.{}",
        b64(&iv),
        b64(&sealed),
        b64(tag.as_ref())
    )
}

/// An ES256 signer with a DID (issuers) or without (holders).
pub(crate) struct Signer {
    pub did: String,
    pub pair: EcdsaKeyPair,
}

impl Signer {
    pub(crate) fn new(did: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self {
            did: did.to_owned(),
            pair,
        }
    }

    pub(crate) fn kid(&self) -> String {
        format!("{}#key-1", self.did)
    }

    pub(crate) fn public_jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]) })
    }

    /// The trust file entry of this issuer.
    pub(crate) fn trust_entry(&self) -> Value {
        let mut jwk = self.public_jwk();
        jwk["kid"] = self.kid().into();
        json!({ "did": self.did, "keys": [jwk] })
    }

    pub(crate) fn sign(&self, header: &Value, claims: &Value) -> String {
        compact_jws(header, claims, |input| {
            Ok::<_, ()>(
                self.pair
                    .sign(&SystemRandom::new(), input)
                    .unwrap()
                    .as_ref()
                    .to_vec(),
            )
        })
        .unwrap()
    }
}

/// An encoded disclosure and its digest.
pub(crate) fn disclosure(items: &Value) -> (String, String) {
    let encoded = b64(items.to_string().as_bytes());
    let digest = b64(ring::digest::digest(&ring::digest::SHA256, encoded.as_bytes()).as_ref());
    (encoded, digest)
}

/// A status list token of `issuer` for `uri`, two bits per entry, `statuses` at their index,
/// valid for an hour.
pub(crate) fn status_list_token(
    issuer: &Signer,
    uri: &str,
    statuses: &[(u64, u8)],
    now: i64,
) -> String {
    status_list_token_ending(issuer, uri, statuses, now, Some(json!(now + 3600)))
}

/// [`status_list_token`] with `exp` as given (`None`: no `exp` claim).
pub(crate) fn status_list_token_ending(
    issuer: &Signer,
    uri: &str,
    statuses: &[(u64, u8)],
    now: i64,
    exp: Option<Value>,
) -> String {
    let mut bytes = vec![0u8; 16];
    for &(idx, status) in statuses {
        bytes[(idx / 4) as usize] |= status << ((idx % 4) * 2);
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bytes).unwrap();
    let lst = b64(&encoder.finish().unwrap());
    let mut claims = json!({ "sub": uri, "iat": now, "status_list": { "bits": 2, "lst": lst } });
    if let Some(exp) = exp {
        claims["exp"] = exp;
    }
    issuer.sign(
        &json!({ "alg": "ES256", "typ": "statuslist+jwt", "kid": issuer.kid() }),
        &claims,
    )
}

/// Status lists held in memory, by URI.
#[derive(Default)]
pub(crate) struct Lists(pub HashMap<String, String>);

impl StatusListSource for Lists {
    fn fetch(
        &self,
        uri: &str,
    ) -> impl std::future::Future<Output = Result<String, StatusFetchError>> + Send {
        let found = self
            .0
            .get(uri)
            .cloned()
            .ok_or_else(|| StatusFetchError("not found".into()));
        async move { found }
    }
}

/// Claims as a map, for tests that edit them.
pub(crate) fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}
