//! Settings from the environment, and the data directory with its keys.

pub mod log_key;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use zeroize::Zeroizing;

use crate::platform::crypto::{self, CryptoError, MasterKey};

pub const MASTER_KEY_FILE: &str = "master.key";
pub const ROCKET_SECRET_FILE: &str = "rocket-secret.key";
pub const SQLITE_FILE: &str = "transfer-desk.sqlite3";
/// Version of the master key that wraps new data keys.
pub const MASTER_KEY_VERSION: u32 = 1;

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
}

/// How fast and how long an upload may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadPace {
    /// Bytes a second an upload must average once a short grace has passed.
    pub min_bytes_per_second: u64,
    /// The most a whole body may take.
    pub deadline: std::time::Duration,
}

impl Default for UploadPace {
    fn default() -> Self {
        UploadPace {
            min_bytes_per_second: 2048,
            deadline: std::time::Duration::from_secs(600),
        }
    }
}

/// How many different reviewers must approve a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalPolicy {
    /// Two when any fraud signal fired, one otherwise.
    FourEyesOnSignals,
    Fixed(u8),
}

impl ApprovalPolicy {
    pub fn required(self, signals_fired: usize) -> usize {
        match self {
            Self::FourEyesOnSignals if signals_fired > 0 => 2,
            Self::FourEyesOnSignals => 1,
            Self::Fixed(n) => usize::from(n.max(1)),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::FourEyesOnSignals),
            n => n
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .map(Self::Fixed),
        }
    }
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
            database_url: sqlite_url(&data_dir),
            data_dir,
            public_url: None,
            master_key_base64: None,
            decode_memory_bytes: 512 * 1024 * 1024,
            retention_days: 30,
            evidence_days: 365,
            approvals: ApprovalPolicy::FourEyesOnSignals,
            registry_command: None,
            ocr_command: on_path("tesseract"),
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
        }
    }

    /// Reads the environment (see the book's settings reference, docs/src/settings.md).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults overridden by the variables `var` finds; empty values count as unset.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let invalid = |message: &str| ConfigError::Invalid(message.to_owned());
        let mut settings =
            Self::in_dir(var("TRANSFER_DESK_DATA_DIR").unwrap_or_else(|| "data".into()));
        if let Some(dir) = var("TRANSFER_DESK_UPLOADS_DIR") {
            settings.uploads_dir = dir.into();
        }
        if let Some(store) = var("TRANSFER_DESK_DOCUMENT_STORE") {
            let (choice, dir) =
                crate::platform::storage::StoreChoice::parse(&store).map_err(|why| {
                    ConfigError::Invalid(format!("TRANSFER_DESK_DOCUMENT_STORE: {why}"))
                })?;
            settings.document_store = choice;
            if let Some(dir) = dir {
                settings.uploads_dir = dir;
            }
        }
        if let Some(url) = var("DATABASE_URL") {
            settings.database_url = url;
        }
        settings.public_url =
            var("TRANSFER_DESK_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        settings.master_key_base64 = var("TRANSFER_DESK_MASTER_KEY").map(Secret::new);
        settings.registry_command = var("TRANSFER_DESK_REGISTRY_COMMAND");
        match var("TRANSFER_DESK_OCR_COMMAND").as_deref().map(str::trim) {
            None => {}
            Some("off") => settings.ocr_command = None,
            Some(program) => {
                settings.ocr_command = Some(on_path(program).ok_or_else(|| {
                    invalid("TRANSFER_DESK_OCR_COMMAND must be off or an OCR program that exists (e.g. tesseract or /usr/bin/tesseract)")
                })?)
            }
        }
        let one_to_sixteen: fn(&usize) -> bool = |n| (1..=16).contains(n);
        for (name, slots) in [
            ("TRANSFER_DESK_OCR_SLOTS", &mut settings.ocr_slots),
            (
                "TRANSFER_DESK_UPLOADS_PER_CLIENT",
                &mut settings.uploads_per_client,
            ),
        ] {
            if let Some(n) = number(name, var(name), one_to_sixteen, "1 to 16")? {
                *slots = n;
            }
        }
        if let Some(v) = var("TRANSFER_DESK_DECODE_MEMORY") {
            settings.decode_memory_bytes = parse_size(&v)
                .filter(|n| *n >= 64 * 1024 * 1024)
                .ok_or_else(|| invalid("TRANSFER_DESK_DECODE_MEMORY must be a size of at least 64 MiB, e.g. 512MiB or 1GiB"))?;
        }
        let positive: fn(&i64) -> bool = |d| *d > 0;
        for (name, days) in [
            ("TRANSFER_DESK_RETENTION_DAYS", &mut settings.retention_days),
            ("TRANSFER_DESK_EVIDENCE_DAYS", &mut settings.evidence_days),
        ] {
            if let Some(d) = number(name, var(name), positive, "a positive number of days")? {
                *days = d;
            }
        }
        if let Some(v) = var("TRANSFER_DESK_APPROVALS_REQUIRED") {
            settings.approvals = ApprovalPolicy::parse(v.trim()).ok_or_else(|| {
                invalid("TRANSFER_DESK_APPROVALS_REQUIRED must be auto or 1 to 5")
            })?;
        }
        let any: fn(&u32) -> bool = |_| true;
        for (name, limit) in [
            (
                "TRANSFER_DESK_SUBMISSIONS_PER_HOUR",
                &mut settings.submissions_per_hour,
            ),
            (
                "TRANSFER_DESK_SUBMISSIONS_PER_DOMAIN_PER_DAY",
                &mut settings.submissions_per_domain_per_day,
            ),
        ] {
            if let Some(n) = number(name, var(name), any, "a whole number (0 for no limit)")? {
                *limit = n;
            }
        }
        if let Some(v) = var("TRANSFER_DESK_UPLOAD_MIN_RATE") {
            settings.upload_pace.min_bytes_per_second = parse_size(&v)
                .filter(|n| *n >= 1)
                .ok_or_else(|| invalid("TRANSFER_DESK_UPLOAD_MIN_RATE must be a size a second of at least 1 byte, e.g. 2KiB"))?;
        }
        let name = "TRANSFER_DESK_UPLOAD_DEADLINE_SECONDS";
        let ten_to_3600: fn(&u64) -> bool = |s| (10..=3600).contains(s);
        if let Some(s) = number(name, var(name), ten_to_3600, "10 to 3600 seconds")? {
            settings.upload_pace.deadline = std::time::Duration::from_secs(s);
        }
        if let Some(list) = var("TRANSFER_DESK_ALLOWED_HOSTS") {
            settings.allowed_hosts = list
                .split(',')
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect();
        }
        settings.smtp_url = var("TRANSFER_DESK_SMTP_URL").map(Secret::new);
        settings.templates_dir = var("TRANSFER_DESK_TEMPLATES_DIR").map(PathBuf::from);
        if let Some(address) = var("TRANSFER_DESK_METRICS_ADDRESS") {
            settings.metrics_address = Some(address.trim().parse().map_err(|_| {
                invalid("TRANSFER_DESK_METRICS_ADDRESS must be an address and port, e.g. 127.0.0.1:9464")
            })?);
        }
        if let Some(from) = var("TRANSFER_DESK_MAIL_FROM") {
            from.parse::<lettre::message::Mailbox>().map_err(|_| {
                invalid("TRANSFER_DESK_MAIL_FROM must be an address, e.g. Transfer Desk <desk@example.net>")
            })?;
            settings.mail_from = from;
        }
        if let Some(staff) = var("TRANSFER_DESK_STAFF_MAIL") {
            staff
                .parse::<lettre::Address>()
                .map_err(|_| invalid("TRANSFER_DESK_STAFF_MAIL must be an email address"))?;
            settings.staff_mail = Some(staff);
        }
        if let Some(hours) = var("TRANSFER_DESK_OBJECTION_HOURS") {
            settings.objection_hours = hours
                .trim()
                .parse()
                .ok()
                .filter(|h| (0..=24 * 30).contains(h))
                .ok_or_else(|| invalid("TRANSFER_DESK_OBJECTION_HOURS must be 0 to 720 hours"))?;
        }
        if let Some(code) = var("TRANSFER_DESK_DEFAULT_LANGUAGE") {
            settings.default_language = crate::platform::i18n::Lang::from_code(code.trim())
                .ok_or_else(|| {
                    invalid("TRANSFER_DESK_DEFAULT_LANGUAGE must be en, fr, de or it")
                })?;
        }
        let minutes = |name: &str| {
            let positive: fn(&i64) -> bool = |m| *m > 0;
            number(name, var(name), positive, "a positive number of minutes")
        };
        if let Some(m) = minutes("TRANSFER_DESK_CHECKPOINT_MINUTES")? {
            settings.checkpoint_every = chrono::Duration::minutes(m);
        }
        if let Some(key) = var("TRANSFER_DESK_LOG_KEY") {
            let key = log_key::PublicLogKey::parse(&key)
                .map_err(|why| ConfigError::Invalid(format!("TRANSFER_DESK_LOG_KEY: {why}")))?;
            settings.log_key = Some(key);
        }
        if let Some(policy) = var("TRANSFER_DESK_STAFF_PASSKEYS") {
            settings.staff_passkeys = match policy.trim() {
                "optional" => PasskeyPolicy::Optional,
                "required" => PasskeyPolicy::Required,
                _ => {
                    return Err(invalid(
                        "TRANSFER_DESK_STAFF_PASSKEYS must be optional or required",
                    ))
                }
            };
        }
        if settings.objection_hours > 0 && settings.smtp_url.is_none() {
            return Err(invalid(
                "TRANSFER_DESK_OBJECTION_HOURS needs TRANSFER_DESK_SMTP_URL: without mail the registrant on file never receives the link to object, so the window would protect nobody while the requester is told it does. Set TRANSFER_DESK_SMTP_URL, or TRANSFER_DESK_OBJECTION_HOURS=0 (admins can still cancel a code or restore nameservers on the review page)",
            ));
        }
        if let Some(zone) = var("TRANSFER_DESK_TIME_ZONE") {
            settings.time_zone = zone.trim().parse().map_err(|_| {
                invalid("TRANSFER_DESK_TIME_ZONE must be an IANA time zone such as Europe/Zurich")
            })?;
        }
        if let Some(list) = var("TRANSFER_DESK_TRUSTED_PROXIES") {
            settings.trusted_proxies = list
                .split(',')
                .map(|ip| ip.trim().parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| invalid("TRANSFER_DESK_TRUSTED_PROXIES must be a comma-separated list of IP addresses"))?;
        }
        Ok(settings)
    }

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

    /// The database URL with any password hidden, for logs.
    pub fn database_for_log(&self) -> String {
        redact_url(&self.database_url)
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

/// `512MiB`, `1GiB`, `300MB` or a number of bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1024,
        "m" | "mb" => 1_000_000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1024 * 1024 * 1024,
        _ => return None,
    };
    number.checked_mul(factor)
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(SQLITE_FILE).display())
}

fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &base[..scheme_end], &base[at + 1..])
        }
        _ => base.to_owned(),
    };
    if query.is_empty() {
        return base;
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=…"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn create_private_dir(path: &Path) -> Result<(), ConfigError> {
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
fn check_private(path: &Path) -> Result<(), ConfigError> {
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

fn read_secret(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Whether reviewers must use passkeys (`TRANSFER_DESK_STAFF_PASSKEYS`): offered to all, or
/// required (a reviewer who has one must sign in with it; one who has none adds one first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasskeyPolicy {
    Optional,
    Required,
}

/// `program` as a path: itself when it names a file, else the first executable of that name
/// in the directories of `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &std::path::Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| executable(path))
}

/// The number in the variable `name` (whose value is `value`), when set and `acceptable`.
fn number<T: std::str::FromStr>(
    name: &str,
    value: Option<String>,
    acceptable: fn(&T) -> bool,
    expected: &str,
) -> Result<Option<T>, ConfigError> {
    value
        .map(|v| {
            v.trim()
                .parse()
                .ok()
                .filter(acceptable)
                .ok_or_else(|| ConfigError::Invalid(format!("{name} must be {expected}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn four_eyes_apply_when_a_signal_fired() {
        let policy = ApprovalPolicy::parse("auto").unwrap();
        assert_eq!((policy.required(0), policy.required(3)), (1, 2));
        assert_eq!(ApprovalPolicy::parse("2").unwrap().required(0), 2);
        assert_eq!(ApprovalPolicy::parse("0"), None);
    }

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

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("512MiB"), Some(512 * 1024 * 1024));
        assert_eq!(parse_size("1 GiB"), Some(1024 * 1024 * 1024));
        assert_eq!(parse_size("300MB"), Some(300_000_000));
        assert_eq!(parse_size("1048576"), Some(1_048_576));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("5 parsecs"), None);
    }

    #[test]
    fn database_passwords_stay_out_of_logs() {
        assert_eq!(
            redact_url("postgres://td:s3cret@db.internal:5432/td"),
            "postgres://…@db.internal:5432/td"
        );
        assert_eq!(
            redact_url("sqlite://data/x.sqlite3?mode=rwc"),
            "sqlite://data/x.sqlite3?mode=rwc"
        );
        assert_eq!(
            redact_url("postgres://db.internal/td?user=td&password=s3cret&sslmode=require"),
            "postgres://db.internal/td?user=td&password=…&sslmode=require"
        );
    }
}
