//! The command line: serve (the default), the staff's accounts, keys, the audit log, backups
//! and the portfolio. The commands and their one dispatch are here; each group's handlers
//! are in a file of its own.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::platform::config::Settings;

mod audit;
mod eid;
mod keys;
mod reviewers;
mod service;

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
    /// The registry account (EPP): check it before going live.
    Registry {
        #[command(subcommand)]
        command: crate::registry::check::RegistryCommand,
    },
    /// The e-ID verifier: its public key for the DID document.
    Eid {
        #[command(subcommand)]
        command: eid::EidCommand,
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
        Command::Serve => service::serve(settings).await,
        Command::Domains {
            command: DomainsCommand::Import { file },
        } => service::import_domains(settings, file).await,
        Command::Reviewer { command } => reviewers::manage_reviewers(settings, command).await,
        Command::Sweep => service::sweep_once(settings).await,
        Command::Backup { dir } => service::backup(settings, dir).await,
        Command::SystemdUnit => ExitCode::SUCCESS,
        Command::Keys { command } => keys::manage_keys(settings, command).await,
        Command::Audit { command } => audit::audit(settings, command).await,
        Command::Registry { command } => crate::registry::check::command(&settings, command).await,
        Command::Eid { command } => eid::run(settings, command).await,
    }
}

/// The unit `transfer-desk systemd-unit` prints (`.ci/run` checks it with
/// `systemd-analyze verify`).
pub const SYSTEMD_UNIT: &str = include_str!("../platform/deploy/transfer-desk.service");

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
