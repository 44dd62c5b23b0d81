//! What the workflow needs to run, built once at start-up and shared by every route.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};

use crate::accounts::LoginThrottle;
use crate::intake::{IntakeGate, IntakeLimits};
use crate::platform::config::keys::KeySource;
use crate::platform::config::{ConfigError, Settings};
use crate::platform::crypto::MasterKey;
use crate::platform::keyring::KeyRing;
use crate::platform::storage::DocumentStore;

#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    /// The master keys: the current version and older ones still in use.
    pub master_key: Arc<KeyRing>,
    pub store: DocumentStore,
    pub intake: IntakeGate,
    pub throttle: LoginThrottle,
    /// The live incident notices, served from memory.
    pub notices: crate::workflow::notices::NoticeBoard,
    /// Wakes the mail sender when a mail was added to the outbox.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Wakes the zone reader when identity documents came in.
    pub zone_wake: Arc<tokio::sync::Notify>,
    /// Documents being read by OCR at once (`TRANSFER_DESK_OCR_SLOTS`).
    pub ocr_slots: Arc<tokio::sync::Semaphore>,
    /// The relying party reviewers' passkeys belong to.
    pub passkeys: Arc<crate::accounts::passkeys::Passkeys>,
    /// The audit log's public key as pinned outside the database; `None` when none could be
    /// pinned (the start said why), and then nothing is signed.
    pub log_key: Option<crate::platform::config::log_key::PublicLogKey>,
    /// The e-ID verifier (its key and status list client); `None` when not offered.
    pub eid: Option<Arc<crate::eid::Eid>>,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the document store (uploads directory {path}): {source}")]
    Uploads {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up passkeys for the public URL: {0}")]
    Passkeys(String),
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: DbErr },
    #[error("cannot read the master key versions: {0}")]
    KeyRing(crate::platform::crypto::CryptoError),
    #[error("cannot unpack the templates and static files into the data directory: {0}")]
    Assets(std::io::Error),
    #[error("cannot establish the audit log's key: {0}")]
    LogKey(crate::evidence::log::LogError),
    #[error("cannot set up the e-ID verifier: {0}")]
    Eid(#[from] crate::eid::StartError),
}

/// The ring of master keys: version 1 from the file or the environment, later versions from
/// the data directory's version files (file-based keys only).
pub fn key_ring(first: MasterKey, source: &KeySource) -> Result<KeyRing, StartError> {
    let dir = match source {
        KeySource::File { path, .. } => path.parent().map(|p| p.to_owned()),
        KeySource::Environment => None,
    };
    KeyRing::load(first, dir).map_err(StartError::KeyRing)
}

impl Services {
    /// What the mail needs of these services.
    pub fn mailer(&self) -> crate::mail::Mailer<'_> {
        crate::mail::Mailer {
            db: &self.db,
            keys: &self.master_key,
            settings: &self.settings,
            wake: &self.mail_wake,
        }
    }

    /// Prepares the data directory and keys, connects and migrates the database.
    /// Returns the services and Rocket's secret key.
    pub async fn start(
        settings: Settings,
    ) -> Result<(Self, zeroize::Zeroizing<String>), StartError> {
        let prepared = settings.prepare()?;
        let db = crate::platform::db::connect_and_migrate(&settings.database_url)
            .await
            .map_err(|source| StartError::Database {
                url: settings.database_for_log(),
                source,
            })?;
        let store = DocumentStore::open(&settings.document_store, &settings.uploads_dir, &db)
            .map_err(|source| StartError::Uploads {
                path: settings.uploads_dir.clone(),
                source,
            })?;
        match &prepared.master_key_source {
            KeySource::Environment => tracing::info!("master key: from TRANSFER_DESK_MASTER_KEY"),
            KeySource::File {
                path,
                created: true,
            } => {
                tracing::info!(
                    "master key: created {} (mode 0600); back it up",
                    path.display()
                )
            }
            KeySource::File { path, .. } => tracing::info!("master key: {}", path.display()),
        }
        if !crate::intake::jpeg::SIMD {
            tracing::warn!("built without libjpeg-turbo's SIMD code (no nasm at build time): documents are encoded several times slower; install nasm and rebuild");
        }
        tracing::info!(
            data_dir = %settings.data_dir.display(),
            documents = %store.describe(),
            database = %settings.database_for_log(),
            "storage ready"
        );
        let master_key = Arc::new(key_ring(prepared.master_key, &prepared.master_key_source)?);
        let log_key = pin_log_key(&db, &master_key, &settings).await?;
        let eid = crate::eid::Eid::start(&db, &master_key, settings.eid.as_ref()).await?;
        let services = Self {
            db,
            master_key,
            store,
            intake: IntakeGate::new(settings.decode_memory_bytes, IntakeLimits::default()),
            throttle: LoginThrottle::default(),
            notices: crate::workflow::notices::NoticeBoard::default(),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            zone_wake: Arc::new(tokio::sync::Notify::new()),
            ocr_slots: Arc::new(tokio::sync::Semaphore::new(settings.ocr_slots)),
            passkeys: Arc::new(
                crate::accounts::passkeys::Passkeys::new(
                    settings.public_url.as_deref(),
                    settings.staff_passkeys,
                )
                .map_err(|e| StartError::Passkeys(e.to_string()))?,
            ),
            log_key,
            eid,
            settings,
        };
        if let Err(error) = services
            .notices
            .refresh(&services.db, chrono::Utc::now())
            .await
        {
            tracing::warn!(%error, "cannot load the incident notices; will retry");
        }
        Ok((services, prepared.rocket_secret))
    }
}

/// The audit log's key, pinned (made on the very first start), and checked against the
/// database: every way it can fail is said loudly, and then nothing is signed.
async fn pin_log_key(
    db: &DatabaseConnection,
    ring: &KeyRing,
    settings: &Settings,
) -> Result<Option<crate::platform::config::log_key::PublicLogKey>, StartError> {
    use crate::evidence::log::{self, Established};
    let origin = log::origin(settings.public_url.as_deref());
    let established = log::establish(
        db,
        ring,
        &settings.data_dir,
        settings.log_key.clone(),
        &origin,
    )
    .await
    .map_err(StartError::LogKey)?;
    let pin = settings.data_dir.join(log::pins::KEY_FILE);
    let key = match established {
        Established::Made(key) => {
            tracing::warn!(
                key = %key.verifier_key(),
                pinned = %pin.display(),
                "made the audit log's signing key (first start) and pinned it; keep a copy of the key elsewhere"
            );
            key
        }
        Established::PinnedFromDatabase(key) => {
            tracing::warn!(
                key = %key.verifier_key(),
                pinned = %pin.display(),
                "pinned the audit log's key found in the database: compare it with a checkpoint mail or a copy kept elsewhere"
            );
            key
        }
        Established::Pinned(key) => key,
        Established::Refused(why) => {
            tracing::error!(
                "the audit log's key cannot be pinned: {why}; no checkpoint will be signed"
            );
            return Ok(None);
        }
    };
    if let Err(error) = log::signing_key(db, ring, &key).await {
        tracing::error!("the audit log cannot be signed: {error}");
    }
    Ok(Some(key))
}
