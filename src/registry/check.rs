//! `transfer-desk registry check <domain>`: the operator's test of the registry account
//! before going live. Connects (the registry's certificate verified), logs in, reads
//! `domain:info` of the domain and logs out, saying what worked at each step.

use super::domains::normalize_domain;
use super::epp::commands::nameservers_of;
use super::epp::outcome::EppError;
use super::epp::session::{Session, TrIds};
use super::epp::EppSettings;
use instant_epp::domain::DomainInfo;

/// Why the check could not start.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("EPP is not configured (TRANSFER_DESK_EPP_SERVER and the other TRANSFER_DESK_EPP_* settings)")]
    NotConfigured,
    #[error(transparent)]
    Domain(#[from] super::domains::DomainError),
}

/// Runs the check; each line of the report is one step. `Ok(false)` when a step failed
/// (the report says which and why).
pub async fn run(
    settings: Option<&EppSettings>,
    domain: &str,
    out: &mut impl std::io::Write,
) -> Result<bool, CheckError> {
    let settings = settings.ok_or(CheckError::NotConfigured)?;
    let domain = normalize_domain(domain)?;
    let mut say = |line: String| {
        let _ = writeln!(out, "{line}");
    };
    let mut session = match Session::open(settings, TrIds::for_check()).await {
        Ok(session) => session,
        Err(error) => {
            say(format!(
                "connect and log in to {}:{}: failed: {error}",
                settings.host, settings.port
            ));
            return Ok(false);
        }
    };
    say(format!(
        "connect to {}:{}: ok (the registry's certificate is trusted)",
        settings.host, settings.port
    ));
    say(format!("log in as {}: ok", settings.client_id));
    let info = session
        .send("domain:info", &DomainInfo::new(&domain, None))
        .await
        .and_then(|answer| {
            answer
                .res_data()
                .map(nameservers_of)
                .ok_or(EppError::Unreadable {
                    command: "domain:info",
                    why: "no domain data in the answer".to_owned(),
                })
        });
    let worked = match info {
        Ok(hosts) => {
            say(format!(
                "domain:info {domain}: ok; nameservers: {}",
                hosts.join(" ")
            ));
            true
        }
        Err(error) => {
            say(format!("domain:info {domain}: failed: {error}"));
            false
        }
    };
    let ids: Vec<String> = session
        .sent
        .iter()
        .map(|(c, id)| format!("{c} {id}"))
        .collect();
    session.close().await;
    say(format!("log out: done (clTRIDs: {})", ids.join(", ")));
    Ok(worked)
}

/// `transfer-desk registry …`
#[derive(Debug, clap::Subcommand)]
pub enum RegistryCommand {
    /// Connect to the EPP registry, log in, read `domain:info` of DOMAIN and log out, saying
    /// what worked: run it before going live.
    Check {
        /// A domain of the portfolio, e.g. example.ch.
        domain: String,
    },
}

/// The command line's handler.
pub async fn command(
    settings: &crate::platform::config::Settings,
    command: RegistryCommand,
) -> std::process::ExitCode {
    let RegistryCommand::Check { domain } = command;
    match run(settings.epp.as_ref(), &domain, &mut std::io::stdout()).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
