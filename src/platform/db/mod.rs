//! Database connection and schema migrations.

mod migrations;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sea_query::{Expr, Keyword};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait, SqliteTransactionMode,
    TransactionOptions, TransactionTrait, UpdateMany,
};
use sea_orm_migration::MigratorTrait;

pub use migrations::Migrator;

/// Connects to `url` (SQLite or PostgreSQL) and brings the schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(10))
        // Statements carry personal data and key material: never log them.
        .sqlx_logging(false);
    let sqlite_file = sqlite_path(url);
    if let Some(path) = &sqlite_file {
        create_private(path).map_err(|e| DbErr::Custom(format!("{}: {e}", path.display())))?;
    }
    let db = Database::connect(options).await?;
    if sqlite_file.is_some() {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
        )
        .await?;
    }
    migrate(&db).await?;
    if let Some(path) = &sqlite_file {
        make_private(path).map_err(|e| DbErr::Custom(format!("{}: {e}", path.display())))?;
    }
    Ok(db)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that read first
/// fails with "database is locked" when another connection commits in between, and no waiting
/// helps it. PostgreSQL ignores the mode.
pub async fn begin_writing<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// `SET column = NULL` for columns of any type (a literal NULL, which needs no type where a
/// bound parameter would).
pub trait SetNull<E: EntityTrait> {
    fn set_null(self, columns: impl IntoIterator<Item = E::Column>) -> Self;
}

impl<E: EntityTrait> SetNull<E> for UpdateMany<E> {
    fn set_null(self, columns: impl IntoIterator<Item = E::Column>) -> Self {
        columns.into_iter().fold(self, |update, column| {
            update.col_expr(column, Expr::Keyword(Keyword::Null))
        })
    }
}

/// Brings the schema up to date. On PostgreSQL under an advisory lock, in one transaction:
/// instances started together (a rolling deploy) migrate one after the other, and the later
/// ones find nothing left to do.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [MIGRATION_LOCK_KEY.into()],
    ))
    .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// "TDMIGRAT" read as a number.
const MIGRATION_LOCK_KEY: i64 = 0x5444_4d49_4752_4154;

/// The file of a `sqlite://PATH?…` URL (not of an in-memory database).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    let in_memory = path.contains(":memory:") || url.contains("mode=memory");
    (!path.is_empty() && !in_memory).then(|| PathBuf::from(path))
}

/// Creates the database file readable by this user alone before SQLite creates it with
/// the umask's mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// The database file and its WAL and shared-memory files: mode 0600.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://data/x.sqlite3?mode=rwc"),
            Some(PathBuf::from("data/x.sqlite3"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://db/x"), None);
    }

    /// A migrated SQLite database in a file of a temporary directory (kept while it lives).
    async fn fresh_sqlite() -> (DatabaseConnection, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.sqlite3").display()
        );
        (connect_and_migrate(&url).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn the_database_and_its_journal_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.sqlite3");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let db = connect_and_migrate(&url).await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", file.display());
            if let Ok(meta) = std::fs::metadata(&path) {
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{path}");
            }
        }
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(db);
    }

    /// Released migrations are never edited: a fresh database gets the schema recorded in
    /// `schema-sqlite.txt` (after adding a migration, record the new one: the failure prints
    /// it), under the names that databases have recorded as applied.
    #[tokio::test]
    async fn the_migrations_make_the_recorded_schema() {
        use sea_orm::ConnectionTrait;
        let (db, _dir) = fresh_sqlite().await;
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT type, name, sql FROM sqlite_master \
                 WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'seaql_%' ORDER BY type, name",
            ))
            .await
            .unwrap();
        let schema: Vec<String> = rows
            .iter()
            .map(|row| {
                let kind: String = row.try_get("", "type").unwrap();
                let name: String = row.try_get("", "name").unwrap();
                let sql: Option<String> = row.try_get("", "sql").unwrap();
                format!("{kind} {name}: {}", sql.unwrap_or_default())
            })
            .collect();
        let schema = schema.join("\n");
        assert_eq!(
            schema,
            include_str!("schema-sqlite.txt").trim_end(),
            "the migrations make another schema:\n{schema}"
        );
        let names: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "m0001_requests",
                "m0002_review",
                "m0003_evidence_links_notices",
                "m0004_kinds_holders_messages",
                "m0005_document_blobs_queue_indexes",
                "m0006_side_doors",
                "m0007_tracking_welcome",
                "m0008_passkeys",
                "m0009_audit_log",
                "m0010_document_zones",
                "m0011_holder_document_type",
                "m0012_passkey_enrolment",
                "m0013_zone_attempts",
                "m0014_event_salts",
                "m0015_eid",
                "m0016_registry_refusal",
                "m0017_eid_session_refusals",
            ]
        );
    }

    /// A deferred transaction that read first would fail on its write with "database is
    /// locked" here, whatever the busy timeout: the other connection's commit made its
    /// snapshot stale.
    #[tokio::test]
    async fn a_writing_transaction_that_read_first_outlives_a_write_committed_meanwhile() {
        use sea_orm::ConnectionTrait;
        let (db, _dir) = fresh_sqlite().await;
        db.execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let txn = begin_writing(&db).await.unwrap();
        txn.execute_unprepared("SELECT count(*) FROM t")
            .await
            .unwrap();
        let other = {
            let db = db.clone();
            tokio::spawn(async move { db.execute_unprepared("INSERT INTO t VALUES (2)").await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        other.await.unwrap().unwrap();
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT n FROM t ORDER BY rowid",
            ))
            .await
            .unwrap();
        let order: Vec<i32> = rows.iter().map(|r| r.try_get("", "n").unwrap()).collect();
        assert_eq!(order, [1, 2], "the other write waited for the transaction");
    }

    #[tokio::test]
    async fn every_migration_can_be_undone_and_done_again() {
        let (db, _dir) = fresh_sqlite().await;
        let all = Migrator::migrations().len();
        Migrator::down(&db, None).await.unwrap();
        assert_eq!(
            Migrator::get_pending_migrations(&db).await.unwrap().len(),
            all
        );
        Migrator::up(&db, None).await.unwrap();
        assert!(Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty());
    }
}
