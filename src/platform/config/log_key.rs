//! `TRANSFER_DESK_LOG_KEY`: the audit log's public key as operators pin it, in the form C2SP
//! signed-note verifiers write (`name+keyid+base64(0x01 ‖ key)`), as `transfer-desk audit key`
//! prints it and the data directory's `log-key.pub` holds it. The log itself (its key pair,
//! checkpoints and receipts) is in `evidence::log`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::values::number;
use super::{ConfigError, Settings, Vars};
use crate::platform::crypto::sha256;

/// The log's key pinned by the operator, and how often a checkpoint is signed.
pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    let name = "TRANSFER_DESK_CHECKPOINT_MINUTES";
    let positive: fn(&i64) -> bool = |m| *m > 0;
    if let Some(m) = number(name, var(name), positive, "a positive number of minutes")? {
        settings.checkpoint_every = chrono::Duration::minutes(m);
    }
    if let Some(key) = var("TRANSFER_DESK_LOG_KEY") {
        let key = PublicLogKey::parse(&key)
            .map_err(|why| ConfigError::Invalid(format!("TRANSFER_DESK_LOG_KEY: {why}")))?;
        settings.log_key = Some(key);
    }
    Ok(())
}

/// The log's public key with the log's name: what verifiers hold, and what the data
/// directory pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicLogKey {
    pub name: String,
    pub key: [u8; 32],
}

impl PublicLogKey {
    /// The key as signed-note verifiers write it: `name+keyid+base64(0x01 ‖ key)`.
    pub fn verifier_key(&self) -> String {
        verifier_key(&self.name, &self.key)
    }

    /// The public key as PEM (SubjectPublicKeyInfo), for `openssl`.
    pub fn pem(&self) -> String {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&self.key);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            BASE64.encode(der)
        )
    }

    /// Reads a verifier key, `name+keyid+base64(0x01 ‖ key)`, as `verifier_key` writes it.
    pub fn parse(text: &str) -> Result<PublicLogKey, KeyTextError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(typed)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyTextError::Malformed);
        };
        let typed = BASE64.decode(typed).map_err(|_| KeyTextError::Malformed)?;
        let Some((1, key)) = typed.split_first() else {
            return Err(KeyTextError::NotEd25519);
        };
        let key: [u8; 32] = key.try_into().map_err(|_| KeyTextError::NotEd25519)?;
        if name.is_empty() || id != crate::platform::crypto::hex(&key_id(name, &key)) {
            return Err(KeyTextError::WrongId);
        }
        Ok(PublicLogKey {
            name: name.to_owned(),
            key,
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyTextError {
    #[error("it is not a log key written as name+id+key, as `transfer-desk audit key` prints it")]
    Malformed,
    #[error("it is not an Ed25519 key")]
    NotEd25519,
    #[error("its key id does not match its name and key (a character was changed)")]
    WrongId,
}

/// The signed-note key id: the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
pub(crate) fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut input = name.as_bytes().to_vec();
    input.push(b'\n');
    input.push(1);
    input.extend_from_slice(public_key);
    let hash = sha256(&input);
    [hash[0], hash[1], hash[2], hash[3]]
}

pub fn verifier_key(name: &str, public_key: &[u8; 32]) -> String {
    let mut typed = vec![1];
    typed.extend_from_slice(public_key);
    format!(
        "{name}+{}+{}",
        crate::platform::crypto::hex(&key_id(name, public_key)),
        BASE64.encode(typed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    /// A fresh public key for a log named `desk.example/transfer-desk/audit`.
    fn test_key() -> PublicLogKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        PublicLogKey {
            name: "desk.example/transfer-desk/audit".into(),
            key: pair.public_key().as_ref().try_into().unwrap(),
        }
    }

    #[test]
    fn a_verifier_key_reads_back_and_a_changed_one_is_refused() {
        let public = test_key();
        let text = public.verifier_key();
        assert_eq!(
            PublicLogKey::parse(&format!("{text}\n")),
            Ok(public.clone())
        );
        let other = test_key();
        let ours: Vec<&str> = text.splitn(3, '+').collect();
        let other = other.verifier_key();
        let theirs: Vec<&str> = other.splitn(3, '+').collect();
        let swapped = format!("{}+{}+{}", ours[0], ours[1], theirs[2]);
        assert_eq!(PublicLogKey::parse(&swapped), Err(KeyTextError::WrongId));
        assert_eq!(
            PublicLogKey::parse("localhost/transfer-desk/audit"),
            Err(KeyTextError::Malformed)
        );
        assert!(PublicLogKey::parse(&public.pem()).is_err());
    }
}
