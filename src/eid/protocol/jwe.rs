//! Opening the wallet's encrypted answer: compact JWE (RFC 7516) with ECDH-ES direct key
//! agreement and the Concat KDF (RFC 7518 §4.6), A256GCM, and `zip=DEF` (raw DEFLATE, RFC 1951)
//! with a cap on the inflated size. Nothing else is accepted (Swiss Profile Verification:
//! "Encryption MUST use only ECDH-ES with P-256 Keys with A256GCM").

use std::io::Read;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::error::Refusal;
use super::jose::{decode_object, unb64, EcKey};
use super::keys::SessionKey;

/// The only content encryption announced in `encrypted_response_enc_values_supported`.
pub(crate) const ENC: &str = "A256GCM";
/// The most a `zip=DEF` payload may inflate to.
pub(crate) const MAX_INFLATED: u64 = 1024 * 1024;

/// The plaintext of `jwe`, decrypted with the session's key.
pub(crate) fn decrypt(jwe: &str, session_key: &SessionKey) -> Result<Vec<u8>, Refusal> {
    // Bare JSON is an unencrypted answer, whatever its dots (one presentation holds four).
    if jwe.trim_start().starts_with('{') {
        return Err(Refusal::NotEncrypted);
    }
    let parts: Vec<&str> = jwe.split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        // A JWS (three parts) is an unencrypted answer too.
        return Err(if parts.len() == 3 {
            Refusal::NotEncrypted
        } else {
            Refusal::MalformedJwe("not five parts")
        });
    };
    let header = decode_object(protected).ok_or(Refusal::MalformedJwe("protected header"))?;
    let params = HeaderParams::read(&header, session_key)?;
    if !encrypted_key.is_empty() {
        return Err(Refusal::MalformedJwe(
            "ECDH-ES direct carries no encrypted key",
        ));
    }
    let iv: [u8; 12] = unb64(iv)
        .and_then(|iv| iv.try_into().ok())
        .ok_or(Refusal::MalformedJwe("iv"))?;
    let tag = unb64(tag)
        .filter(|tag| tag.len() == 16)
        .ok_or(Refusal::MalformedJwe("tag"))?;
    let mut sealed = unb64(ciphertext).ok_or(Refusal::MalformedJwe("ciphertext"))?;
    sealed.extend_from_slice(&tag);

    let shared = session_key.secret().diffie_hellman(&params.epk);
    let cek = concat_kdf::<32>(
        shared.raw_secret_bytes().as_slice(),
        ENC.as_bytes(),
        &params.apu,
        &params.apv,
    );
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek.as_ref()).map_err(|_| Refusal::Decryption)?,
    );
    // The AAD is the protected header exactly as sent (RFC 7516 §5.1 step 14).
    let plaintext = key
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| Refusal::Decryption)?;
    if params.deflated {
        inflate_raw(plaintext)
    } else {
        Ok(plaintext.to_vec())
    }
}

struct HeaderParams {
    epk: p256::PublicKey,
    apu: Vec<u8>,
    apv: Vec<u8>,
    deflated: bool,
}

impl HeaderParams {
    fn read(header: &Map<String, Value>, session_key: &SessionKey) -> Result<Self, Refusal> {
        let text = |name: &str| header.get(name).and_then(Value::as_str);
        let refuse = |what: &str| Refusal::EncryptionRefused(what.to_owned());
        if text("alg") != Some("ECDH-ES") {
            return Err(refuse(&format!("alg {:?}", header.get("alg"))));
        }
        if text("enc") != Some(ENC) {
            return Err(refuse(&format!("enc {:?}", header.get("enc"))));
        }
        if header.contains_key("crit") {
            return Err(refuse("crit"));
        }
        let deflated = match header.get("zip") {
            None => false,
            Some(zip) if zip == "DEF" => true,
            Some(other) => return Err(refuse(&format!("zip {other}"))),
        };
        if let Some(kid) = header.get("kid") {
            if kid.as_str() != Some(session_key.key_id().as_str()) {
                return Err(Refusal::WrongRecipient);
            }
        }
        let epk = header
            .get("epk")
            .and_then(EcKey::from_jwk)
            .and_then(|key| p256::PublicKey::from_sec1_bytes(key.sec1()).ok())
            .ok_or(Refusal::MalformedJwe("epk is not a P-256 public key"))?;
        let party = |name: &str| match header.get(name) {
            None => Ok(Vec::new()),
            Some(value) => value
                .as_str()
                .and_then(unb64)
                .ok_or(Refusal::MalformedJwe("apu/apv")),
        };
        Ok(Self {
            epk,
            apu: party("apu")?,
            apv: party("apv")?,
            deflated,
        })
    }
}

/// The Concat KDF of NIST SP 800-56A as RFC 7518 §4.6.2 uses it for ECDH-ES direct key
/// agreement: `N` bytes from SHA-256 rounds over `counter ‖ Z ‖ OtherInfo`, where OtherInfo is
/// the length-prefixed AlgorithmID (`enc`), PartyUInfo, PartyVInfo and the key length in bits.
pub(crate) fn concat_kdf<const N: usize>(
    z: &[u8],
    algorithm: &[u8],
    apu: &[u8],
    apv: &[u8],
) -> Zeroizing<[u8; N]> {
    let mut other_info = Vec::new();
    for field in [algorithm, apu, apv] {
        other_info.extend_from_slice(&(field.len() as u32).to_be_bytes());
        other_info.extend_from_slice(field);
    }
    other_info.extend_from_slice(&((N * 8) as u32).to_be_bytes());
    let mut out = Zeroizing::new([0u8; N]);
    for (round, chunk) in out.chunks_mut(32).enumerate() {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        context.update(&(round as u32 + 1).to_be_bytes());
        context.update(z);
        context.update(&other_info);
        let digest = context.finish();
        chunk.copy_from_slice(&digest.as_ref()[..chunk.len()]);
    }
    out
}

/// Raw DEFLATE, refusing output beyond [`MAX_INFLATED`] instead of producing it.
fn inflate_raw(compressed: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(compressed)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|_| Refusal::Inflation)?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(Refusal::Inflation);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "jwe_tests.rs"]
mod tests;
