//! The JOSE pieces the test issuer and wallet need, written from RFC 7515 (JWS), RFC 7516 and
//! RFC 7518 (JWE with ECDH-ES, Concat KDF, A256GCM, `zip=DEF`) with other crates than the
//! verifier's (p256's ECDSA instead of ring, aes-gcm instead of ring's AEAD), so that a
//! misreading of the specifications is not shared by both sides.

use std::io::Write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

pub fn sha256_b64(text: &str) -> String {
    b64(Sha256::digest(text.as_bytes()))
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random generator works");
    bytes
}

pub fn random_b64(len: usize) -> String {
    let bytes: [u8; 32] = random_bytes();
    b64(&bytes[..len.min(32)])
}

pub fn new_signing_key() -> SigningKey {
    SigningKey::generate()
}

/// The public JWK (RFC 7518 §6.2) of a P-256 point, without `kid`.
pub fn public_jwk(key: &VerifyingKey) -> Value {
    let point = key.to_sec1_point(false);
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(point.x().expect("an uncompressed point")),
        "y": b64(point.y().expect("an uncompressed point")),
    })
}

/// The P-256 point of a JWK; `None` unless it is an EC P-256 key with 32-byte coordinates.
pub fn verifying_key(jwk: &Value) -> Option<VerifyingKey> {
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return None;
    }
    let x = unb64(jwk["x"].as_str()?)?;
    let y = unb64(jwk["y"].as_str()?)?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// A compact JWS (RFC 7515 §7.1) signed ES256: the signature is r‖s, 64 bytes (RFC 7518 §3.4).
pub fn sign_es256(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(signature.to_bytes()))
}

/// A compact JWS with `alg` `none` and an empty signature (RFC 7519 §6.1): what an attacker
/// sends when a verifier might take the header's word for the algorithm.
pub fn unsigned_jws(header: &Value, claims: &Value) -> String {
    format!("{}.{}.", b64(header.to_string()), b64(claims.to_string()))
}

/// A compact JWS's header and claims, if its ES256 signature verifies with `key`.
pub fn verify_es256(jws: &str, key: &VerifyingKey) -> Option<(Value, Value)> {
    let mut parts = jws.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header_json: Value = serde_json::from_slice(&unb64(header)?).ok()?;
    if header_json["alg"] != "ES256" {
        return None;
    }
    let signature = Signature::from_slice(&unb64(signature)?).ok()?;
    key.verify(format!("{header}.{claims}").as_bytes(), &signature)
        .ok()?;
    Some((header_json, serde_json::from_slice(&unb64(claims)?).ok()?))
}

/// The parts of a compact JWS, without checking anything.
pub fn decode_jws(jws: &str) -> Option<(Value, Value)> {
    let mut parts = jws.split('.');
    let header = serde_json::from_slice(&unb64(parts.next()?)?).ok()?;
    let claims = serde_json::from_slice(&unb64(parts.next()?)?).ok()?;
    Some((header, claims))
}

/// Concat KDF (NIST SP 800-56A, as RFC 7518 §4.6.2 specialises it with SHA-256): one round is
/// enough for keys of up to 256 bits. `algorithm` is `enc` for direct key agreement.
pub fn concat_kdf(z: &[u8], algorithm: &str, apu: &[u8], apv: &[u8], key_bits: u32) -> Vec<u8> {
    assert!(
        key_bits <= 256,
        "one round of SHA-256 gives at most 256 bits"
    );
    let mut round = Sha256::new();
    round.update(1u32.to_be_bytes());
    round.update(z);
    for field in [algorithm.as_bytes(), apu, apv] {
        round.update((field.len() as u32).to_be_bytes());
        round.update(field);
    }
    round.update(key_bits.to_be_bytes());
    round.finalize()[..(key_bits / 8) as usize].to_vec()
}

/// How the wallet builds its JWE; the honest values are [`JweOptions::default`].
#[derive(Debug, Clone)]
pub struct JweOptions {
    pub alg: String,
    pub enc: String,
    /// `kid` header; `None` leaves it out.
    pub kid: Option<String>,
    /// Compress the plaintext with raw DEFLATE (RFC 1951) and say `zip: DEF`.
    pub deflate: bool,
    /// Header members added or replacing the above.
    pub extra_header: Value,
}

impl Default for JweOptions {
    fn default() -> Self {
        Self {
            alg: "ECDH-ES".into(),
            enc: "A256GCM".into(),
            kid: None,
            deflate: false,
            extra_header: json!({}),
        }
    }
}

/// A compact JWE (RFC 7516 §7.1) of `plaintext` to the P-256 key `recipient`: ECDH-ES direct key
/// agreement with an ephemeral key (RFC 7518 §4.6), AES-GCM with a 96-bit IV and the
/// protected header's base64url as additional data (RFC 7518 §5.3, RFC 7516 §5.1 step 14).
/// The content key length follows `enc` (A128GCM or A256GCM); another `enc` is still labelled
/// as asked but encrypted with A256GCM, so a verifier must refuse it by its name.
pub fn encrypt_ecdh_es(plaintext: &[u8], recipient: &VerifyingKey, options: &JweOptions) -> String {
    let ephemeral = p256::ecdh::EphemeralSecret::generate();
    let shared = ephemeral.diffie_hellman(&recipient.into());
    let mut header = json!({
        "alg": options.alg,
        "enc": options.enc,
        "epk": public_jwk(&VerifyingKey::from(&ephemeral.public_key())),
    });
    if let Some(kid) = &options.kid {
        header["kid"] = json!(kid);
    }
    if options.deflate {
        header["zip"] = json!("DEF");
    }
    merge(&mut header, &options.extra_header);
    let protected = b64(header.to_string());
    let body = if options.deflate {
        deflate_raw(plaintext)
    } else {
        plaintext.to_vec()
    };
    let key_bits = if options.enc == "A128GCM" { 128 } else { 256 };
    let key = concat_kdf(shared.raw_secret_bytes(), &options.enc, &[], &[], key_bits);
    let iv: [u8; 12] = random_bytes();
    let (ciphertext, tag) = aes_gcm_seal(&key, &iv, protected.as_bytes(), body);
    format!("{protected}..{}.{}.{}", b64(iv), b64(ciphertext), b64(tag))
}

fn aes_gcm_seal(key: &[u8], iv: &[u8; 12], aad: &[u8], mut body: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let nonce = aes_gcm::Nonce::from(*iv);
    let tag = if key.len() == 16 {
        aes_gcm::Aes128Gcm::new_from_slice(key)
            .expect("a 128-bit key")
            .encrypt_inout_detached(&nonce, aad, body.as_mut_slice().into())
            .expect("AES-GCM encrypts")
            .to_vec()
    } else {
        aes_gcm::Aes256Gcm::new_from_slice(key)
            .expect("a 256-bit key")
            .encrypt_inout_detached(&nonce, aad, body.as_mut_slice().into())
            .expect("AES-GCM encrypts")
            .to_vec()
    };
    (body, tag)
}

/// Opens a JWE made by [`encrypt_ecdh_es`] (for the wallet's own tests: the verifier has its
/// own decryption).
pub fn decrypt_ecdh_es(jwe: &str, recipient: &p256::SecretKey) -> Option<Vec<u8>> {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let parts: Vec<&str> = jwe.split('.').collect();
    let [protected, "", iv, ciphertext, tag] = parts[..] else {
        return None;
    };
    let header: Value = serde_json::from_slice(&unb64(protected)?).ok()?;
    let epk = verifying_key(&header["epk"])?;
    let shared = p256::ecdh::diffie_hellman(recipient.to_nonzero_scalar(), epk.as_affine());
    let enc = header["enc"].as_str()?;
    let key = concat_kdf(shared.raw_secret_bytes(), enc, &[], &[], 256);
    let iv: [u8; 12] = unb64(iv)?.try_into().ok()?;
    let mut body = unb64(ciphertext)?;
    let tag = aes_gcm::Tag::try_from(unb64(tag)?.as_slice()).ok()?;
    aes_gcm::Aes256Gcm::new_from_slice(&key)
        .ok()?
        .decrypt_inout_detached(
            &aes_gcm::Nonce::from(iv),
            protected.as_bytes(),
            body.as_mut_slice().into(),
            &tag,
        )
        .ok()?;
    if header["zip"] == "DEF" {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::DeflateDecoder::new(&body[..]), &mut out)
            .ok()?;
        return Some(out);
    }
    Some(body)
}

/// Raw DEFLATE (RFC 1951), what `zip: DEF` means (RFC 7516 §4.1.3): not zlib.
pub fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// ZLIB (RFC 1950), what a status list's `lst` holds (Token Status List §4.1).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Adds `extra`'s members to `target` (both JSON objects); a `null` member removes it.
pub fn merge(target: &mut Value, extra: &Value) {
    let (Some(target), Some(extra)) = (target.as_object_mut(), extra.as_object()) else {
        return;
    };
    for (name, value) in extra {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 Appendix C: the Concat KDF example (ECDH-ES, A128GCM, apu "Alice", apv "Bob").
    #[test]
    fn the_concat_kdf_gives_the_rfc_7518_example_key() {
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 128);
        assert_eq!(b64(key), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn a_jwe_opens_with_the_recipient_key_and_not_with_another() {
        let recipient = p256::SecretKey::generate();
        let public = VerifyingKey::from(&recipient.public_key());
        for deflate in [false, true] {
            let options = JweOptions {
                deflate,
                kid: Some("k".into()),
                ..JweOptions::default()
            };
            let jwe = encrypt_ecdh_es(b"{\"a\":1}", &public, &options);
            assert_eq!(decrypt_ecdh_es(&jwe, &recipient).unwrap(), b"{\"a\":1}");
            assert!(decrypt_ecdh_es(&jwe, &p256::SecretKey::generate()).is_none());
        }
    }

    #[test]
    fn an_es256_jws_verifies_with_its_key_only() {
        let key = new_signing_key();
        let jws = sign_es256(&json!({"alg": "ES256"}), &json!({"n": 1}), &key);
        assert_eq!(verify_es256(&jws, key.verifying_key()).unwrap().1["n"], 1);
        assert!(verify_es256(&jws, new_signing_key().verifying_key()).is_none());
        let jwk = public_jwk(key.verifying_key());
        assert_eq!(verifying_key(&jwk).as_ref(), Some(key.verifying_key()));
    }
}
