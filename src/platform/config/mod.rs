//! Settings from the environment, one file for each thing configured, and the data
//! directory with its keys. `Settings` holds every value and `Settings::in_dir` every
//! default; each file reads the variables of its concern.

pub mod data_dir;
pub mod eid;
pub mod epp;
pub mod keys;
pub mod limits;
pub mod log_key;
mod mail;
mod network;
mod pages;
pub mod programs;
pub mod review;
pub mod store;
mod values;

use std::io;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::platform::crypto::CryptoError;
use limits::UploadPace;
use review::{ApprovalPolicy, PasskeyPolicy};

/// How the readers ask for a variable: `None` when it is unset or empty.
type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

fn invalid(message: &str) -> ConfigError {
    ConfigError::Invalid(message.to_owned())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot prepare {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("TRANSFER_DESK_MASTER_KEY is not a base64 256-bit key: {0}")]
    MasterKeyEnv(CryptoError),
    #[error("{path} does not hold a base64 256-bit key: {source}")]
    MasterKeyFile { path: PathBuf, source: CryptoError },
    #[error("{0}")]
    Invalid(String),
}

/// A secret setting (a key, a URL with a password): it never shows in a debug print.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where things live and how the service behaves. Tests build their own.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The directory of the `fs` document store.
    pub uploads_dir: PathBuf,
    /// Where sealed documents are kept (`TRANSFER_DESK_DOCUMENT_STORE`).
    pub document_store: crate::platform::storage::StoreChoice,
    pub database_url: String,
    /// Base URL requesters reach the service at (for links in API answers and the origin check).
    pub public_url: Option<String>,
    /// Master key in base64; when absent, `data_dir/master.key` is used (and created).
    pub master_key_base64: Option<Secret>,
    /// Memory that decoding photos may take at once; uploads wait for their share.
    pub decode_memory_bytes: u64,
    /// Undecided requests older than this are expired and shredded.
    pub retention_days: i64,
    /// Decided requests keep the requester's contact data this long, then only the evidence.
    pub evidence_days: i64,
    pub approvals: ApprovalPolicy,
    /// Shell command that receives what to do (see `registry`) on stdin at approval.
    pub registry_command: Option<String>,
    /// The registry account, when the registry is reached in EPP (`TRANSFER_DESK_EPP_*`).
    pub epp: Option<epp::EppSettings>,
    /// The OCR program that reads identity documents' machine-readable zones
    /// (`TRANSFER_DESK_OCR_COMMAND`): `tesseract` when it is on the PATH, else none.
    pub ocr_command: Option<PathBuf>,
    /// How many documents are read by OCR at once (`TRANSFER_DESK_OCR_SLOTS`).
    pub ocr_slots: usize,
    /// Where `GET /metrics` is served (never on the public address), if anywhere.
    pub metrics_address: Option<std::net::SocketAddr>,
    /// A host's own templates, laid over the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// The time zone pages and emails show times in.
    pub time_zone: chrono_tz::Tz,
    /// The language of mails to registrants whose portfolio row names none.
    pub default_language: crate::platform::i18n::Lang,
    /// Where mail goes (`smtps://user:pass@host:465`, `smtp://host:587?tls=required`); without
    /// it, mails stay in the outbox for admins to read.
    pub smtp_url: Option<Secret>,
    /// The sender of every mail.
    pub mail_from: String,
    /// Where the security staff are told of a requester's new message, if anywhere.
    pub staff_mail: Option<String>,
    /// Whether the service sends the outbox itself (tests that step through retries send
    /// it by hand).
    pub send_mail_in_background: bool,
    /// Hours after an approval before the requester sees the code (0: at once), so that the
    /// registrant on file can object first.
    pub objection_hours: i64,
    /// Whether reviewers must sign in and step up with a passkey.
    pub staff_passkeys: PasskeyPolicy,
    /// How often the sweeper signs a checkpoint of the audit log, when it has grown.
    pub checkpoint_every: chrono::Duration,
    /// The audit log's public key, pinned here instead of in the data directory (for
    /// instances whose data directory does not last).
    pub log_key: Option<log_key::PublicLogKey>,
    /// Host names (with an optional port) the service answers to besides loopback and the
    /// public URL's host.
    pub allowed_hosts: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed; nobody's by default.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Submissions accepted per client address (or IPv6 /64) an hour; 0 for no limit.
    pub submissions_per_hour: u32,
    /// Stored requests a domain is expected to get in a day; past them requests are taken
    /// and flagged for the reviewers (never refused). 0 for no flag.
    pub submissions_per_domain_per_day: u32,
    /// How slow and how long an upload may be before it is cut off.
    pub upload_pace: UploadPace,
    /// Bodies with documents one client address (an IPv6 client by its /64, by its /48 while
    /// half the upload slots are busy) may send at once.
    pub uploads_per_client: usize,
    /// How old an unreferenced file in uploads/ must be before the sweeper removes it.
    pub sweep_grace: chrono::Duration,
    /// Proving who one is with the e-ID (`TRANSFER_DESK_EID_*`); `None`: not offered.
    pub eid: Option<eid::EidSettings>,
}

impl Settings {
    /// The defaults, for a data directory: SQLite inside it, `uploads/` beside it. Every
    /// default lives here; `from_env` only overrides.
    pub fn in_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            uploads_dir: data_dir
                .parent()
                .map_or_else(|| PathBuf::from("uploads"), |parent| parent.join("uploads")),
            document_store: crate::platform::storage::StoreChoice::Files,
            database_url: store::sqlite_url(&data_dir),
            data_dir,
            public_url: None,
            master_key_base64: None,
            decode_memory_bytes: 512 * 1024 * 1024,
            retention_days: 30,
            evidence_days: 365,
            approvals: ApprovalPolicy::FourEyesOnSignals,
            registry_command: None,
            epp: None,
            ocr_command: programs::on_path("tesseract"),
            ocr_slots: 1,
            time_zone: chrono_tz::Europe::Zurich,
            default_language: crate::platform::i18n::Lang::En,
            templates_dir: None,
            metrics_address: None,
            smtp_url: None,
            mail_from: "Transfer Desk <transfer-desk@localhost>".into(),
            staff_mail: None,
            send_mail_in_background: true,
            objection_hours: 0,
            staff_passkeys: PasskeyPolicy::Optional,
            checkpoint_every: chrono::Duration::minutes(60),
            log_key: None,
            allowed_hosts: Vec::new(),
            submissions_per_hour: 10,
            submissions_per_domain_per_day: 5,
            trusted_proxies: Vec::new(),
            upload_pace: UploadPace::default(),
            uploads_per_client: 2,
            sweep_grace: chrono::Duration::minutes(10),
            eid: None,
        }
    }

    /// Reads the environment (see the book's settings reference, docs/src/settings.md).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults overridden by the variables `var` finds; empty values count as unset.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut settings =
            Self::in_dir(var("TRANSFER_DESK_DATA_DIR").unwrap_or_else(|| "data".into()));
        store::read(&var, &mut settings)?;
        keys::read(&var, &mut settings);
        network::read(&var, &mut settings)?;
        programs::read(&var, &mut settings)?;
        limits::read(&var, &mut settings)?;
        mail::read(&var, &mut settings)?;
        pages::read(&var, &mut settings)?;
        review::read(&var, &mut settings)?;
        log_key::read(&var, &mut settings)?;
        review::objection_needs_mail(&settings)?;
        settings.eid = eid::from_vars(var)?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_one_set_of_defaults() {
        let defaults = Settings::from_vars(|_| None).unwrap();
        assert_eq!(defaults.data_dir, PathBuf::from("data"));
        assert_eq!(defaults.uploads_dir, PathBuf::from("uploads"));
        assert_eq!(
            defaults.retention_days,
            Settings::in_dir("data").retention_days
        );
        let tests = Settings::in_dir("/tmp/x/data");
        assert_eq!(tests.uploads_dir, PathBuf::from("/tmp/x/uploads"));

        let vars = [
            ("TRANSFER_DESK_DATA_DIR", "/srv/td"),
            ("TRANSFER_DESK_SUBMISSIONS_PER_HOUR", "0"),
            ("TRANSFER_DESK_DECODE_MEMORY", "1GiB"),
            (
                "TRANSFER_DESK_ALLOWED_HOSTS",
                "desk.internal, desk.example:8443",
            ),
            ("TRANSFER_DESK_RETENTION_DAYS", " "),
            ("TRANSFER_DESK_TIME_ZONE", "America/New_York"),
        ];
        let set = Settings::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert_eq!(set.uploads_dir, PathBuf::from("/srv/uploads"));
        assert_eq!(set.submissions_per_hour, 0);
        assert_eq!(set.decode_memory_bytes, 1024 * 1024 * 1024);
        assert_eq!(set.allowed_hosts, ["desk.internal", "desk.example:8443"]);
        assert_eq!(set.retention_days, 30, "an empty value counts as unset");
        assert_eq!(set.time_zone, chrono_tz::America::New_York);
        assert_eq!(defaults.time_zone, chrono_tz::Europe::Zurich);
        assert!(Settings::from_vars(|name| {
            (name == "TRANSFER_DESK_TIME_ZONE").then(|| "Mars/Olympus".into())
        })
        .is_err());
        assert!(Settings::from_vars(|name| {
            (name == "TRANSFER_DESK_EVIDENCE_DAYS").then(|| "forever".into())
        })
        .is_err());
    }
}
