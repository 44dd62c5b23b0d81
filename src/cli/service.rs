//! Running the service: `serve` (the default), one `sweep`, a `backup`, and the portfolio's
//! `domains import`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::*;

pub(super) async fn backup(settings: Settings, dir: PathBuf) -> ExitCode {
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

pub(super) async fn serve(settings: Settings) -> ExitCode {
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
pub(super) async fn sweep_once(settings: Settings) -> ExitCode {
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
pub(super) async fn import_domains(settings: Settings, file: PathBuf) -> ExitCode {
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
    match crate::registry::domains::import_csv(&db, input).await {
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
