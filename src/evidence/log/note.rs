//! The log's Ed25519 key and the C2SP signed notes it signs: checkpoints
//! (`tlog-checkpoint`) and deletion receipts.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use crate::platform::config::log_key::{key_id, PublicLogKey};

/// The log's Ed25519 key.
pub struct LogKey {
    pub name: String,
    pub(super) pair: Ed25519KeyPair,
}

impl LogKey {
    pub fn public_key(&self) -> [u8; 32] {
        let mut key = [0; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        key
    }

    /// Its public half, with the log's name.
    pub fn public(&self) -> PublicLogKey {
        PublicLogKey {
            name: self.name.clone(),
            key: self.public_key(),
        }
    }
}

/// A checkpoint: the log's name, size and root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
}

impl Checkpoint {
    /// The note's text (C2SP tlog-checkpoint), which the signature covers.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// The signed note: the body, a blank line, and the signature line.
    pub fn sign(&self, key: &LogKey) -> String {
        key.sign_note(&self.body())
    }
}

impl LogKey {
    /// `body` (lines, each ending in a line feed) as a C2SP signed note: the body, a blank
    /// line, and the signature line.
    pub fn sign_note(&self, body: &str) -> String {
        let signature = self.pair.sign(body.as_bytes());
        let mut signed = key_id(&self.name, &self.public_key()).to_vec();
        signed.extend_from_slice(signature.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.name, BASE64.encode(signed))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("not a checkpoint note")]
    Malformed,
    #[error("no signature by the log's key {0}")]
    NotSigned(String),
}

/// Reads a signed checkpoint, accepting it only with a valid signature by `name`'s `key`.
pub fn open_note(note: &str, name: &str, key: &[u8; 32]) -> Result<Checkpoint, NoteError> {
    let (body, signatures) = note.split_once("\n\n").ok_or(NoteError::Malformed)?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(NoteError::Malformed);
    };
    let size = size.parse().map_err(|_| NoteError::Malformed)?;
    let root: [u8; 32] = BASE64
        .decode(root)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or(NoteError::Malformed)?;
    let id = key_id(name, key);
    let signed = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((signer, signature)) = rest.split_once(' ') else {
            return false;
        };
        let Ok(signature) = BASE64.decode(signature) else {
            return false;
        };
        signer == name
            && signature.len() == 68
            && signature[..4] == id
            && UnparsedPublicKey::new(&ED25519, key)
                .verify(body.as_bytes(), &signature[4..])
                .is_ok()
    });
    if !signed {
        return Err(NoteError::NotSigned(name.to_owned()));
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh key for a log named `desk.example/transfer-desk/audit`.
    fn test_key() -> LogKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        LogKey {
            name: "desk.example/transfer-desk/audit".into(),
            pair: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
        }
    }

    #[test]
    fn a_checkpoint_we_sign_opens_with_our_key_only() {
        let key = test_key();
        let checkpoint = Checkpoint {
            origin: key.name.clone(),
            size: 3,
            root: [7; 32],
        };
        let note = checkpoint.sign(&key);
        assert_eq!(
            open_note(&note, &key.name, &key.public_key()),
            Ok(checkpoint.clone())
        );
        let other_key = test_key().public_key();
        assert!(open_note(&note, &key.name, &other_key).is_err());
        let forged = note.replace("\n3\n", "\n4\n");
        assert!(open_note(&forged, &key.name, &key.public_key()).is_err());
    }

    /// An independent implementation of C2SP signed-note accepts our checkpoints.
    #[test]
    fn signed_note_reads_our_checkpoints() {
        let key = test_key();
        let note = Checkpoint {
            origin: key.name.clone(),
            size: 12,
            root: [9; 32],
        }
        .sign(&key);
        let verifier = signed_note::StandardVerifier::new(&key.public().verifier_key()).unwrap();
        let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
        let (verified, unverified) = parsed
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
    }
}
