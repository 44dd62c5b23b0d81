//! `transfer-desk keys`: the master key's versions, a new one, and re-wrapping data keys.

use std::process::ExitCode;

use super::*;

pub(super) async fn manage_keys(settings: Settings, command: KeysCommand) -> ExitCode {
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
