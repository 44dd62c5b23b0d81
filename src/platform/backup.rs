//! `transfer-desk backup DIR`: a consistent copy of the database (SQLite's `VACUUM INTO`; for
//! PostgreSQL, the `pg_dump` command to run) and of the document store, which holds
//! ciphertext only. Never the master key: without it the copy's documents cannot be read, so
//! it is kept apart (see the book's "Backup and restore").

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use crate::platform::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists and is not empty: back up into a new directory")]
    NotEmpty(PathBuf),
    #[error("cannot write the backup: {0}")]
    Io(#[from] std::io::Error),
    #[error("the database snapshot failed: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// What was written.
#[derive(Debug)]
pub struct BackupReport {
    /// The database snapshot, when the database is SQLite.
    pub database: Option<PathBuf>,
    /// For PostgreSQL: the command that dumps it (the URL's password left out).
    pub pg_dump: Option<String>,
    /// Encrypted files copied from the `fs` store; `None` when the store is not files.
    pub documents: Option<usize>,
}

pub const DATABASE_FILE: &str = "transfer-desk.sqlite3";
pub const DOCUMENTS_DIR: &str = "uploads";

pub async fn backup(
    settings: &Settings,
    db: &DatabaseConnection,
    target: &Path,
) -> Result<BackupReport, BackupError> {
    if target.exists() && std::fs::read_dir(target)?.next().is_some() {
        return Err(BackupError::NotEmpty(target.to_owned()));
    }
    std::fs::create_dir_all(target)?;
    restrict(target)?;
    let (database, pg_dump) = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let file = target.join(DATABASE_FILE);
            let path = file.to_string_lossy().replace('\'', "''");
            // One statement, one transaction: a consistent snapshot while the service runs.
            db.execute_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("VACUUM INTO '{path}'"),
            ))
            .await?;
            restrict(&file)?;
            (Some(file), None)
        }
        _ => (
            None,
            Some(format!(
                "pg_dump --format=custom --file={}/transfer-desk.pgdump '{}'",
                target.display(),
                settings.database_for_log()
            )),
        ),
    };
    // The `db` store is inside the snapshot; an `s3` bucket is backed up where it lives.
    if settings.document_store != crate::platform::storage::StoreChoice::Files {
        return Ok(BackupReport {
            database,
            pg_dump,
            documents: None,
        });
    }
    // After the snapshot: every document it lists was written before it was committed.
    let documents_dir = target.join(DOCUMENTS_DIR);
    std::fs::create_dir_all(&documents_dir)?;
    restrict(&documents_dir)?;
    let mut documents = 0;
    for entry in std::fs::read_dir(&settings.uploads_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), documents_dir.join(entry.file_name()))?;
            documents += 1;
        }
    }
    Ok(BackupReport {
        database,
        pg_dump,
        documents: Some(documents),
    })
}

/// Backups hold personal data: readable by the owner alone.
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
