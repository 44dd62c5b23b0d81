//! The data directory and the secret files in it: a directory only the service may enter,
//! and files of mode 0600 that appear whole or not at all.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::ConfigError;
use crate::platform::crypto::{self, CryptoError};

pub(super) fn create_private_dir(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })
}
/// Creates `path` with mode 0600 holding `make()`, unless it already exists. Returns whether
/// it was created. The file appears whole or not at all: a crash never leaves it empty.
pub(crate) fn write_new_secret(
    path: &Path,
    make: impl FnOnce() -> Result<Zeroizing<String>, CryptoError>,
) -> Result<bool, ConfigError> {
    let io_error = |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    if path.exists() {
        return Ok(false);
    }
    let secret = make().map_err(|e| io_error(io::Error::other(e)))?;
    let mut contents = Zeroizing::new(secret.as_bytes().to_vec());
    contents.push(b'\n');
    let temp = write_private_temp(path, &contents).map_err(io_error)?;
    // A hard link never replaces an existing file, so two starts racing keep one key.
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error(e)),
    }
}
/// Replaces `path` with a 0600 file holding `contents`, atomically (temp file, fsync, rename).
pub fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temp = write_private_temp(path, contents)?;
    fs::rename(&temp, path).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}
/// A fully written, fsynced 0600 file beside `path`, to be linked or renamed into place.
fn write_private_temp(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    let suffix = crypto::random_bytes::<8>()
        .map(|bytes| crypto::hex(&bytes))
        .map_err(io::Error::other)?;
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp-{suffix}"));
    let temp = path.with_file_name(name);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        });
    match written {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}
/// Refuses a key file that others could read: it would mean the key may have leaked.
pub(super) fn check_private(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ConfigError::Invalid(format!(
            "{} can be read by other users (mode {:o}); run `chmod 600 {}` and check who may have copied it",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}
pub(super) fn read_secret(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })
}
