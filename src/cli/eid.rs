//! `transfer-desk eid key`: the verifier's public key (a JWK with its `kid`), for the
//! operator's DID document. Made (and sealed under the master key) if this is its first use.

use std::process::ExitCode;

use crate::platform::config::Settings;

#[derive(Debug, clap::Subcommand)]
pub enum EidCommand {
    /// Print the e-ID verifier's public key as a JWK with its `kid`
    /// (`<TRANSFER_DESK_EID_VERIFIER_DID>#<thumbprint>`), for the DID document.
    Key,
}

pub(super) async fn run(settings: Settings, command: EidCommand) -> ExitCode {
    match command {
        EidCommand::Key => match public_key(&settings).await {
            Ok(jwk) => {
                println!("{jwk}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
    }
}

/// The verifier key's public JWK, pretty-printed.
async fn public_key(settings: &Settings) -> Result<String, String> {
    let eid = settings.eid.as_ref().ok_or(
        "the e-ID is off: set TRANSFER_DESK_EID_VERIFIER_DID (and TRANSFER_DESK_EID_TRUST_FILE)",
    )?;
    let prepared = settings.prepare().map_err(|e| e.to_string())?;
    let ring =
        crate::workflow::services::key_ring(prepared.master_key, &prepared.master_key_source)
            .map_err(|e| e.to_string())?;
    let db = crate::platform::db::connect_and_migrate(&settings.database_url)
        .await
        .map_err(|e| {
            format!(
                "cannot open the database {}: {e}",
                settings.database_for_log()
            )
        })?;
    let (key, _) = crate::eid::keys::load_or_make(&db, &ring, &eid.verifier_did)
        .await
        .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&key.public_jwk()).map_err(|e| e.to_string())
}
