//! The master key (`TRANSFER_DESK_MASTER_KEY`, or `master.key` in the data directory, made
//! on the first start) and the key of Rocket's cookies beside it.

use std::path::PathBuf;

use base64::Engine;
use zeroize::Zeroizing;

use super::data_dir::{check_private, create_private_dir, read_secret, write_new_secret};
use super::{ConfigError, Secret, Settings, Vars};
use crate::platform::crypto::{self, MasterKey};

pub const MASTER_KEY_FILE: &str = "master.key";
pub const ROCKET_SECRET_FILE: &str = "rocket-secret.key";
/// Version of the master key that wraps new data keys.
pub const MASTER_KEY_VERSION: u32 = 1;

pub(super) fn read(var: Vars, settings: &mut Settings) {
    settings.master_key_base64 = var("TRANSFER_DESK_MASTER_KEY").map(Secret::new);
}

impl Settings {
    /// Creates the data directory and loads the master key (creating its file on first start).
    pub fn prepare(&self) -> Result<Prepared, ConfigError> {
        create_private_dir(&self.data_dir)?;
        let (master_key, master_key_source) = match &self.master_key_base64 {
            Some(encoded) => (
                MasterKey::from_base64(MASTER_KEY_VERSION, encoded.expose())
                    .map_err(ConfigError::MasterKeyEnv)?,
                KeySource::Environment,
            ),
            None => {
                let path = self.data_dir.join(MASTER_KEY_FILE);
                let created = write_new_secret(&path, || {
                    Ok(MasterKey::generate(MASTER_KEY_VERSION)?.to_base64())
                })?;
                check_private(&path)?;
                let text = Zeroizing::new(read_secret(&path)?);
                let key = MasterKey::from_base64(MASTER_KEY_VERSION, &text).map_err(|source| {
                    ConfigError::MasterKeyFile {
                        path: path.clone(),
                        source,
                    }
                })?;
                (key, KeySource::File { path, created })
            }
        };
        // Instances given the key in the environment (several behind a load balancer, each
        // with its own data directory) derive the cookie key from it, so that a cookie set
        // by one is read by all; a key kept in files has its own cookie-key file beside it.
        let rocket_secret = match master_key_source {
            KeySource::Environment => master_key
                .cookie_secret()
                .map_err(ConfigError::MasterKeyEnv)?,
            KeySource::File { .. } => {
                let secret_path = self.data_dir.join(ROCKET_SECRET_FILE);
                write_new_secret(&secret_path, || {
                    let bytes = Zeroizing::new(crypto::random_bytes::<64>()?);
                    Ok(Zeroizing::new(
                        base64::engine::general_purpose::STANDARD.encode(*bytes),
                    ))
                })?;
                check_private(&secret_path)?;
                Zeroizing::new(read_secret(&secret_path)?.trim().to_owned())
            }
        };
        Ok(Prepared {
            master_key,
            master_key_source,
            rocket_secret,
        })
    }
}

/// What [`Settings::prepare`] made ready.
pub struct Prepared {
    pub master_key: MasterKey,
    pub master_key_source: KeySource,
    pub rocket_secret: Zeroizing<String>,
}

#[derive(Debug)]
pub enum KeySource {
    Environment,
    File { path: PathBuf, created: bool },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn first_start_creates_private_keys_and_later_starts_reuse_them() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::in_dir(dir.path().join("data"));
        let first = settings.prepare().unwrap();
        let key_path = dir.path().join("data").join(MASTER_KEY_FILE);
        let mode = fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            first.master_key_source,
            KeySource::File { created: true, .. }
        ));
        let second = settings.prepare().unwrap();
        assert!(matches!(
            second.master_key_source,
            KeySource::File { created: false, .. }
        ));
        assert_eq!(
            *first.master_key.to_base64(),
            *second.master_key.to_base64()
        );
        assert_eq!(*first.rocket_secret, *second.rocket_secret);
    }

    #[test]
    fn instances_given_one_master_key_share_the_cookie_key_and_write_no_key_file() {
        let key = MasterKey::generate(1).unwrap().to_base64();
        let prepared_in = |dir: &std::path::Path, key: &str| {
            let mut settings = Settings::in_dir(dir);
            settings.master_key_base64 = Some(Secret::new(key));
            settings.prepare().unwrap()
        };
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = prepared_in(one.path(), &key);
        let second = prepared_in(two.path(), &key);
        assert_eq!(*first.rocket_secret, *second.rocket_secret);
        assert_eq!(first.rocket_secret.len(), 88, "64 bytes in base64");
        assert!(!one.path().join(ROCKET_SECRET_FILE).exists());
        let other_key = MasterKey::generate(1).unwrap().to_base64();
        let third = prepared_in(two.path(), &other_key);
        assert_ne!(*first.rocket_secret, *third.rocket_secret);
    }

    #[test]
    fn a_key_file_others_can_read_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::in_dir(dir.path());
        settings.prepare().unwrap();
        let key_path = dir.path().join(MASTER_KEY_FILE);
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = settings.prepare().err().expect("refused").to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn key_files_are_written_whole_and_no_temp_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        Settings::in_dir(dir.path()).prepare().unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [MASTER_KEY_FILE, ROCKET_SECRET_FILE]);
        for name in names {
            assert!(!fs::read(dir.path().join(name)).unwrap().is_empty());
        }
    }

    #[test]
    fn a_key_from_the_environment_takes_precedence_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::in_dir(dir.path());
        let key = MasterKey::generate(1).unwrap();
        settings.master_key_base64 = Some(Secret::new(key.to_base64().as_str()));
        let prepared = settings.prepare().unwrap();
        assert!(matches!(prepared.master_key_source, KeySource::Environment));
        assert!(!dir.path().join(MASTER_KEY_FILE).exists());
        settings.master_key_base64 = Some(Secret::new("dG9vIHNob3J0"));
        assert!(matches!(
            settings.prepare(),
            Err(ConfigError::MasterKeyEnv(_))
        ));
    }
}
