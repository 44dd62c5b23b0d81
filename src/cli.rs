//! The command line: serve (the default) and portfolio import.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::platform::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "transfer-desk",
    version,
    about = "Identity-verified domain transfer-code requests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve,
    /// Manage the domain portfolio.
    Domains {
        #[command(subcommand)]
        command: DomainsCommand,
    },
    /// Run the background jobs once (expiry, interrupted issuing, code expiry, file
    /// deletion, orphaned files, personal data past the evidence period), for cron.
    Sweep,
    /// Manage reviewer accounts.
    Reviewer {
        #[command(subcommand)]
        command: ReviewerCommand,
    },
    /// Print a hardened systemd unit for this service.
    SystemdUnit,
    /// Rotate and retire master keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The audit log: its public key, and a check of every event against its checkpoints.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy the database (SQLite; for PostgreSQL, print the pg_dump command) and the
    /// encrypted documents into a new directory. The master key is never copied.
    Backup {
        /// A new or empty directory.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewerCommand {
    /// Add a reviewer; the password is read from standard input (not echoed on a terminal).
    Add {
        name: String,
        /// Let the reviewer manage others and read the audit trail.
        #[arg(long)]
        admin: bool,
    },
    /// Disable a reviewer and end their sessions.
    Disable { name: String },
    /// Set a new password (read from standard input) and end the reviewer's sessions.
    Password { name: String },
    /// List reviewers.
    List,
    /// List a reviewer's passkeys; `--remove-all` removes them (when every admin lost theirs,
    /// or a reviewer lost their device).
    Passkeys {
        name: String,
        #[arg(long)]
        remove_all: bool,
    },
    /// Print a one-time link (valid 24 hours) that adds a passkey to a reviewer's account:
    /// where passkeys are required, the only way to an account's first one.
    PasskeyLink { name: String },
    /// Set the address a reviewer is told of every change to their passkeys at.
    Email { name: String, email: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the log's public key as pinned (on the first start, in the data directory or
    /// TRANSFER_DESK_LOG_KEY), as a signed-note verifier key and as PEM.
    Key,
    /// Recompute the log from the stored events and check them against the pinned key (or
    /// the one given), every stored checkpoint, the last checkpoint the service signed and
    /// the one given; exit 1 saying each thing that does not fit.
    Verify {
        /// An older checkpoint (a signed note) kept outside this service.
        #[arg(long)]
        since: Option<PathBuf>,
        /// The log's key as `audit key` printed it (name+id+key), or a file holding it,
        /// instead of the pinned one.
        #[arg(long)]
        public_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new master key version current and re-wrap every document key under it;
    /// interrupted, run it again to finish.
    Rotate {
        /// Document keys re-wrapped per batch.
        #[arg(long, default_value_t = 200)]
        batch: u64,
    },
    /// List the master key versions and how many document keys each wraps.
    List,
    /// Remove an older version that no document key uses any more.
    Retire { version: u32 },
}

#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// Insert or update domains from a CSV file with the header
    /// `domain,registrant_name,registrant_email[,registrant_phone]`.
    Import {
        /// The CSV file to import.
        file: PathBuf,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::SystemdUnit) = cli.command {
        print!("{}", SYSTEMD_UNIT);
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Domains {
            command: DomainsCommand::Import { file },
        } => import_domains(settings, file).await,
        Command::Reviewer { command } => manage_reviewers(settings, command).await,
        Command::Sweep => sweep_once(settings).await,
        Command::Backup { dir } => backup(settings, dir).await,
        Command::SystemdUnit => ExitCode::SUCCESS,
        Command::Keys { command } => manage_keys(settings, command).await,
        Command::Audit { command } => audit(settings, command).await,
    }
}

async fn audit(settings: Settings, command: AuditCommand) -> ExitCode {
    let (since, given) = match command {
        AuditCommand::Key => return print_log_key(&settings),
        AuditCommand::Verify { since, public_key } => (since, public_key),
    };
    match verify_log(&settings, since, given).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// The key the log is checked against: the one given, or the pinned one; with where it
/// comes from, in words.
fn expected_log_key(
    settings: &Settings,
    given: Option<String>,
) -> Result<(crate::platform::config::log_key::PublicLogKey, String), String> {
    use crate::evidence::log::pins;
    use crate::platform::config::log_key::PublicLogKey;
    if let Some(given) = given {
        let text = std::fs::read_to_string(&given).unwrap_or_else(|_| given.clone());
        return PublicLogKey::parse(text.lines().next().unwrap_or_default())
            .map(|key| (key, "given with --public-key".to_owned()))
            .map_err(|why| format!("--public-key: {why}"));
    }
    if let Some(key) = &settings.log_key {
        return Ok((key.clone(), "pinned in TRANSFER_DESK_LOG_KEY".to_owned()));
    }
    let file = settings.data_dir.join(pins::KEY_FILE);
    match pins::pinned_key(&settings.data_dir).map_err(|e| e.to_string())? {
        Some(key) => Ok((key, format!("pinned in {}", file.display()))),
        None => Err(format!(
            "no key of the audit log is pinned in {}: the service pins it when it starts; give \
             the key you kept with --public-key",
            file.display()
        )),
    }
}

fn print_log_key(settings: &Settings) -> ExitCode {
    match expected_log_key(settings, None) {
        Ok((key, _)) => {
            println!("{}", key.verifier_key());
            print!("{}", key.pem());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Checks the log, saying every problem; never makes or pins a key. Whether it fits.
async fn verify_log(
    settings: &Settings,
    since: Option<PathBuf>,
    given: Option<String>,
) -> Result<bool, String> {
    use crate::evidence::log::{self, pins, Expected};
    let (key, key_from) = expected_log_key(settings, given)?;
    let mut kept = Vec::new();
    if let Some(note) = pins::last_signed(&settings.data_dir).map_err(|e| e.to_string())? {
        let file = settings.data_dir.join(pins::CHECKPOINT_FILE);
        let what = format!(
            "the last checkpoint the service signed (kept in {})",
            file.display()
        );
        kept.push((what, note));
    }
    if let Some(file) = since {
        let note = std::fs::read_to_string(&file)
            .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        kept.push((format!("the checkpoint in {}", file.display()), note));
    }
    let db = open_database(settings).await?;
    // New events are placed first, so that they are checked too; when they cannot be, that
    // is a finding of its own and the rest is still checked.
    let placed = log::sequence(&db).await;
    if let Err(error) = &placed {
        eprintln!("{error}");
    }
    // The sweeper signs once the interval has passed, at its next pass.
    let wait = settings.checkpoint_every
        + chrono::Duration::from_std(crate::workflow::jobs::SWEEP_EVERY).unwrap_or_default();
    let expected = Expected {
        key: &key,
        key_from: &key_from,
        kept,
        covered_before: chrono::Utc::now() - wait,
    };
    let report = log::verify(&db, &expected)
        .await
        .map_err(|e| e.to_string())?;
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    if report.problems.is_empty() && placed.is_ok() {
        println!(
            "the audit log is consistent: {} event(s), {} checkpoint(s), with the key {key_from}",
            report.events, report.checkpoints
        );
    }
    Ok(report.problems.is_empty() && placed.is_ok())
}

async fn manage_keys(settings: Settings, command: KeysCommand) -> ExitCode {
    use crate::platform::keyring;
    let ring = match settings.prepare().map_err(|e| e.to_string()).and_then(|p| {
        crate::workflow::services::key_ring(p.master_key, &p.master_key_source)
            .map_err(|e| e.to_string())
    }) {
        Ok(ring) => ring,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let result =
        match command {
            KeysCommand::Rotate { batch } => keyring::rotate(&db, &ring, batch.max(1), None)
                .await
                .map(|report| {
                    if report.created {
                        println!("version {} is now current", report.version);
                    } else {
                        println!("finishing the rotation to version {}", report.version);
                    }
                    println!(
                        "re-wrapped {} document key(s); {} left under older versions",
                        report.rewrapped, report.remaining
                    );
                }),
            KeysCommand::List => keyring::usage(&db, &ring)
                .await
                .map_err(keyring::RotateError::from)
                .map(|usage| {
                    let current = ring.version();
                    for (version, documents) in usage {
                        let mark = if version == current { " (current)" } else { "" };
                        println!("version {version}{mark}: {documents} document key(s)");
                    }
                }),
            KeysCommand::Retire { version } => keyring::retire(&db, &ring, version)
                .await
                .map(|()| println!("version {version} retired")),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The unit `transfer-desk systemd-unit` prints (`.ci/run` checks it with
/// `systemd-analyze verify`).
pub const SYSTEMD_UNIT: &str = include_str!("platform/deploy/transfer-desk.service");

async fn backup(settings: Settings, dir: PathBuf) -> ExitCode {
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match crate::platform::backup::backup(&settings, &db, &dir).await {
        Ok(report) => {
            if let Some(file) = &report.database {
                println!("database: {}", file.display());
            }
            if let Some(command) = &report.pg_dump {
                println!("PostgreSQL: dump the database with\n  {command}");
            }
            match (report.documents, &settings.document_store) {
                (Some(count), _) => println!(
                    "documents: {count} encrypted file(s) in {}",
                    dir.join(crate::platform::backup::DOCUMENTS_DIR).display()
                ),
                (None, crate::platform::storage::StoreChoice::Database) => {
                    println!("documents: in the database, with it")
                }
                (None, _) => println!(
                    "documents: they stay in the bucket; back it up there (versioning or replication)"
                ),
            }
            println!("the master key is not in the backup: keep a copy of it apart");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The database, or the exit status 2 after saying why it cannot be opened.
async fn database_or_exit(settings: &Settings) -> Result<sea_orm::DatabaseConnection, ExitCode> {
    open_database(settings).await.map_err(|error| {
        eprintln!("error: {error}");
        ExitCode::from(2)
    })
}

async fn open_database(settings: &Settings) -> Result<sea_orm::DatabaseConnection, String> {
    settings.prepare().map_err(|e| e.to_string())?;
    crate::platform::db::connect_and_migrate(&settings.database_url)
        .await
        .map_err(|e| {
            format!(
                "cannot open the database {}: {e}",
                settings.database_for_log()
            )
        })
}

/// Reads a password from the terminal without echo, or a line from piped input.
fn read_password(prompt: &str) -> Result<zeroize::Zeroizing<String>, String> {
    use std::io::IsTerminal;
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| e.to_string())?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line
    };
    Ok(zeroize::Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

async fn manage_reviewers(settings: Settings, command: ReviewerCommand) -> ExitCode {
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let result = match command {
        ReviewerCommand::Add { name, admin } => {
            match read_password("Password (12-128 characters): ") {
                Ok(password) => crate::accounts::add_reviewer(&db, &name, &password, admin)
                    .await
                    .map(|_| println!("added {}{name}", if admin { "admin " } else { "" }))
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error),
            }
        }
        ReviewerCommand::Disable { name } => crate::accounts::disable_reviewer(&db, &name)
            .await
            .map(|()| println!("disabled {name}; their sessions are ended"))
            .map_err(|e| e.to_string()),
        ReviewerCommand::Password { name } => {
            match read_password("New password (12-128 characters): ") {
                Ok(password) => crate::accounts::change_password(&db, &name, &password)
                    .await
                    .map(|()| println!("password of {name} changed; their sessions are ended"))
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error),
            }
        }
        ReviewerCommand::Passkeys { name, remove_all } if remove_all => {
            remove_passkeys(settings, &name).await
        }
        ReviewerCommand::Passkeys { name, .. } => passkeys(&db, &name).await,
        ReviewerCommand::PasskeyLink { name } => {
            crate::accounts::issue_enrolment_link(&db, &name, "cli")
                .await
                .map(|link| {
                    let base = settings.public_url.as_deref().unwrap_or("");
                    println!("{base}/review/enrol/{}", link.expose());
                    eprintln!("pass this link to {name} only; it works once, for 24 hours");
                })
                .map_err(|e| e.to_string())
        }
        ReviewerCommand::Email { name, email } => crate::accounts::set_email(&db, &name, &email)
            .await
            .map(|()| println!("{name} is told of changes to their passkeys at {email}"))
            .map_err(|e| e.to_string()),
        ReviewerCommand::List => crate::accounts::list_reviewers(&db)
            .await
            .map(|reviewers| {
                for r in reviewers {
                    let role = if r.is_admin { "admin" } else { "reviewer" };
                    let status = if r.disabled { "disabled" } else { "active" };
                    println!("{}\t{role}\t{status}", r.name);
                }
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let metrics_address = settings.metrics_address;
    let rocket = match crate::rocket(settings).await {
        Ok(rocket) => rocket,
        Err(error) => {
            tracing::error!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(address), Some(services)) = (metrics_address, rocket.state::<crate::Services>()) {
        match crate::web::metrics::prepare(services.clone(), address).await {
            Ok(metrics) => {
                tokio::spawn(crate::web::metrics::serve(metrics));
            }
            Err(error) => {
                tracing::error!("cannot start: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("the service stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Exits 0 when every stage ran, 1 when one failed (each failure is logged).
async fn sweep_once(settings: Settings) -> ExitCode {
    let services = match crate::Services::start(settings).await {
        Ok((services, _)) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let report = crate::workflow::sweep::sweep(&services, chrono::Utc::now()).await;
    if report.left_to_another_instance {
        println!("another instance is sweeping this database now; nothing done");
        return ExitCode::SUCCESS;
    }
    println!(
        "expired {} request(s), returned {} interrupted issuing(s) to review, erased {} code(s), handed {} nameserver change(s) to the registry, unlinked {} file(s), removed {} orphaned file(s), erased personal data of {} request(s), purged {} stale row(s), signed an audit checkpoint of {} event(s)",
        report.requests_expired,
        report.issuing_abandoned,
        report.codes_erased,
        report.nameservers_handed_off,
        report.unlinked_from_outbox,
        report.orphans_removed,
        report.personal_data_erased,
        report.stale_rows_purged,
        report.checkpoint_signed,
    );
    if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("failed stages: {}", report.failed.join(", "));
        ExitCode::FAILURE
    }
}

/// Exits 0 when every row was imported, 1 when some rows were rejected (the good ones are
/// still imported), 2 when nothing could be imported.
async fn import_domains(settings: Settings, file: PathBuf) -> ExitCode {
    let input = match std::fs::File::open(&file) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("error: cannot open {}: {error}", file.display());
            return ExitCode::from(2);
        }
    };
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match crate::domains::import_csv(&db, input).await {
        Ok(report) => {
            for row in &report.rejected {
                eprintln!("{}: line {}: {}", file.display(), row.line, row.reason);
            }
            println!(
                "imported {} domain(s), rejected {} row(s)",
                report.imported,
                report.rejected.len()
            );
            if report.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
/// Lists, or removes, a reviewer's passkeys (the operator acts as `cli` in the audit trail).
async fn reviewer_named(
    db: &sea_orm::DatabaseConnection,
    name: &str,
) -> Result<entities::reviewer::Model, String> {
    crate::accounts::find_by_name(db, name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no reviewer is named “{name}”"))
}

/// Removes every passkey of a reviewer, and tells them and the staff address.
async fn remove_passkeys(settings: Settings, name: &str) -> Result<(), String> {
    let (services, _) = crate::Services::start(settings)
        .await
        .map_err(|e| e.to_string())?;
    let reviewer = reviewer_named(&services.db, name).await?;
    let change = crate::accounts::passkeys::remove_all(&services.db, &reviewer, "cli")
        .await
        .map_err(|e| e.to_string())?;
    let Some(change) = change else {
        println!("removed 0 passkey(s) of {name}");
        return Ok(());
    };
    if let crate::accounts::passkeys::ChangeKind::AllRemoved(count) = change.what {
        println!("removed {count} passkey(s) of {name}");
    }
    crate::mail::tell_passkey_change(services.mailer(), &change)
        .await
        .map_err(|e| e.to_string())
}

async fn passkeys(db: &sea_orm::DatabaseConnection, name: &str) -> Result<(), String> {
    use crate::accounts::passkeys;
    let reviewer = reviewer_named(db, name).await?;
    let list = passkeys::list(db, reviewer.id)
        .await
        .map_err(|e| e.to_string())?;
    if list.is_empty() {
        println!("{name} has no passkey");
    }
    for key in list {
        let used = key.last_used_at.map_or_else(
            || "never used".to_owned(),
            |at| format!("last used {}", at.to_rfc3339()),
        );
        println!(
            "{}\tadded {}\t{used}",
            key.name,
            key.created_at.to_rfc3339()
        );
    }
    Ok(())
}
