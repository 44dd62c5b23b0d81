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
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let rocket = match crate::rocket(settings).await {
        Ok(rocket) => rocket,
        Err(error) => {
            tracing::error!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("the service stopped: {error}");
            ExitCode::FAILURE
        }
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
    let db = match settings.prepare() {
        Ok(_) => crate::db::connect_and_migrate(&settings.database_url).await,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let db = match db {
        Ok(db) => db,
        Err(error) => {
            eprintln!(
                "error: cannot open the database {}: {error}",
                settings.database_for_log()
            );
            return ExitCode::from(2);
        }
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
