//! `transfer-desk audit key` and `audit verify`: the log's public key, and the whole log checked
//! against the key and checkpoint pinned outside the database.

use std::process::ExitCode;

use super::*;

pub(super) async fn audit(settings: Settings, command: AuditCommand) -> ExitCode {
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
