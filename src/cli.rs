//! The command line: serve (the default) and portfolio import.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

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
    /// Print the log's public key, as a signed-note verifier key and as PEM.
    Key,
    /// Recompute the log from the stored events and check every stored checkpoint (and the
    /// one given, kept elsewhere); exit 1 naming the first event or checkpoint that does not
    /// fit.
    Verify {
        /// An older checkpoint (a signed note) kept outside this service.
        #[arg(long)]
        since: Option<PathBuf>,
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
    use crate::audit_log::{self, Finding};
    let since = match &command {
        AuditCommand::Verify { since: Some(file) } => match std::fs::read_to_string(file) {
            Ok(note) => Some(note),
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", file.display());
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let services = match crate::Services::start(settings).await {
        Ok((services, _)) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let origin = audit_log::origin(services.settings.public_url.as_deref());
    let key = match audit_log::signing_key(&services.db, &services.master_key, &origin).await {
        Ok(key) => key,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if let AuditCommand::Key = command {
        println!("{}", key.verifier_key());
        print!("{}", key.pem());
        return ExitCode::SUCCESS;
    }
    let checked = async {
        audit_log::sequence(&services.db).await?;
        audit_log::verify(&services.db, &origin, &key.public_key(), since.as_deref()).await
    };
    match checked.await {
        Ok(Finding::Consistent {
            events,
            checkpoints,
        }) => {
            println!("the audit log is consistent: {events} event(s), {checkpoints} checkpoint(s)");
            ExitCode::SUCCESS
        }
        Ok(Finding::EventDoesNotFit { index, id, why }) => {
            let id = id.map_or_else(String::new, |id| format!(" (audit event id {id})"));
            eprintln!("event {index} of the log{id} does not fit: {why}");
            ExitCode::FAILURE
        }
        Ok(Finding::CheckpointDoesNotFit { size, why }) => {
            eprintln!("the checkpoint of {size} event(s) does not fit: {why}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn manage_keys(settings: Settings, command: KeysCommand) -> ExitCode {
    use crate::keyring;
    let ring = match settings.prepare().map_err(|e| e.to_string()).and_then(|p| {
        crate::services::key_ring(p.master_key, &p.master_key_source).map_err(|e| e.to_string())
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
pub const SYSTEMD_UNIT: &str = include_str!("deploy/transfer-desk.service");

async fn backup(settings: Settings, dir: PathBuf) -> ExitCode {
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match crate::backup::backup(&settings, &db, &dir).await {
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
                    dir.join(crate::backup::DOCUMENTS_DIR).display()
                ),
                (None, crate::storage::StoreChoice::Database) => {
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
    crate::db::connect_and_migrate(&settings.database_url)
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
        match crate::observe::prepare(services.clone(), address).await {
            Ok(metrics) => {
                tokio::spawn(crate::observe::serve(metrics));
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
    crate::mail::tell_passkey_change(&services, &change)
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
