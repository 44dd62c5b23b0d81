//! What the log rests on outside the database, in the data directory beside the master key:
//! the log's public key, pinned on the first start (`log-key.pub`), and the last checkpoint
//! this service signed (`log-checkpoint`). A database writer reaches neither, so a key put
//! into the database, or a log rewritten and rehashed under the old key, does not go unseen.

use std::path::{Path, PathBuf};

use crate::platform::config::log_key::{KeyTextError, PublicLogKey};

pub const KEY_FILE: &str = "log-key.pub";
pub const CHECKPOINT_FILE: &str = "log-checkpoint";

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {0}")]
    Write(String),
    #[error("{path} does not hold the audit log's key: {why}")]
    NotAKey { path: PathBuf, why: KeyTextError },
}

/// The key pinned in `dir`, if one is.
pub fn pinned_key(dir: &Path) -> Result<Option<PublicLogKey>, PinError> {
    let path = dir.join(KEY_FILE);
    let Some(text) = read(&path)? else {
        return Ok(None);
    };
    PublicLogKey::parse(&text)
        .map(Some)
        .map_err(|why| PinError::NotAKey { path, why })
}

/// Pins `key` in `dir`, unless a key is pinned there already: a pinned key is never
/// replaced. Returns whether it was pinned now.
pub(super) fn pin_key(dir: &Path, key: &PublicLogKey) -> Result<bool, PinError> {
    let text = key.verifier_key();
    crate::platform::config::data_dir::write_new_secret(&dir.join(KEY_FILE), || Ok(text.into()))
        .map_err(|e| PinError::Write(e.to_string()))
}

/// The last checkpoint this service signed (a signed note), if it signed one.
pub fn last_signed(dir: &Path) -> Result<Option<String>, PinError> {
    read(&dir.join(CHECKPOINT_FILE))
}

/// Keeps `note` as the last checkpoint signed, replacing the one before atomically.
pub(super) fn record_signed(dir: &Path, note: &str) -> Result<(), PinError> {
    let path = dir.join(CHECKPOINT_FILE);
    crate::platform::config::data_dir::write_private_file(&path, note.as_bytes())
        .map_err(|source| PinError::Io { path, source })
}

fn read(path: &Path) -> Result<Option<String>, PinError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PinError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}
