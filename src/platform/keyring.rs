//! The master keys: the current version wraps new data keys and seals outbox links; older
//! versions stay until no data key is wrapped under them (`transfer-desk keys`). Version 1 is
//! `data/master.key` (or `TRANSFER_DESK_MASTER_KEY`); later versions are
//! `data/master-key.v<N>` files, mode 0600, written by `keys rotate`. A running instance
//! reloads the files when it meets a version it does not know, so a rotation started from the
//! command line never leaves it unable to read a document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use crate::platform::crypto::{CryptoError, DataKey, DocumentBinding, MasterKey};

const VERSION_FILE_PREFIX: &str = "master-key.v";

pub struct KeyRing {
    keys: RwLock<BTreeMap<u32, Arc<MasterKey>>>,
    /// Where later versions live; `None` when the key came from the environment.
    dir: Option<PathBuf>,
}

impl KeyRing {
    /// A ring of `first` (version 1) and, when `dir` is given, the versions filed there.
    pub fn load(first: MasterKey, dir: Option<PathBuf>) -> Result<KeyRing, CryptoError> {
        let ring = KeyRing {
            keys: RwLock::new(BTreeMap::from([(first.version(), Arc::new(first))])),
            dir,
        };
        ring.reload()?;
        Ok(ring)
    }

    /// Reads the version files again (another process may have rotated).
    pub fn reload(&self) -> Result<(), CryptoError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = name
                .strip_prefix(VERSION_FILE_PREFIX)
                .and_then(|v| v.parse::<u32>().ok())
            else {
                continue;
            };
            let text = Zeroizing::new(
                std::fs::read_to_string(entry.path()).map_err(|_| CryptoError::KeyEncoding)?,
            );
            found.push(MasterKey::from_base64(version, &text)?);
        }
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.retain(|version, _| *version == 1 || found.iter().any(|k| k.version() == *version));
        for key in found {
            keys.insert(key.version(), Arc::new(key));
        }
        Ok(())
    }

    fn current(&self) -> Arc<MasterKey> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            keys.values()
                .next_back()
                .expect("a ring holds at least version 1"),
        )
    }

    fn get(&self, version: u32) -> Option<Arc<MasterKey>> {
        let found = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&version)
            .cloned();
        found.or_else(|| {
            self.reload().ok()?;
            self.keys
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&version)
                .cloned()
        })
    }

    /// The version new data keys are wrapped under.
    pub fn version(&self) -> u32 {
        self.current().version()
    }

    /// Every version held, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// Wraps under the version `binding` names (the current one for new documents).
    pub fn wrap(
        &self,
        data_key: &DataKey,
        binding: &DocumentBinding,
    ) -> Result<Vec<u8>, CryptoError> {
        self.get(binding.key_version)
            .ok_or(CryptoError::KeyLength)?
            .wrap(data_key, binding)
    }

    /// Unwraps with the version `binding` names.
    pub fn unwrap(
        &self,
        wrapped: &[u8],
        binding: &DocumentBinding,
    ) -> Result<DataKey, CryptoError> {
        self.get(binding.key_version)
            .ok_or(CryptoError::Open)?
            .unwrap(wrapped, binding)
    }

    /// Seals a short secret under the current version, which is written in front of it.
    pub fn seal_secret(&self, context: &[u8], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.current();
        let mut sealed = key.version().to_be_bytes().to_vec();
        sealed.extend(key.seal_secret(context, secret)?);
        Ok(sealed)
    }

    pub fn open_secret(
        &self,
        context: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (version, rest) = sealed.split_at_checked(4).ok_or(CryptoError::Open)?;
        let version = u32::from_be_bytes(version.try_into().map_err(|_| CryptoError::Open)?);
        self.get(version)
            .ok_or(CryptoError::Open)?
            .open_secret(context, rest)
    }

    /// Creates the next version's file (mode 0600) and makes it current.
    pub fn add_version(&self) -> Result<u32, RotateError> {
        let dir = self.dir.as_ref().ok_or(RotateError::KeyFromEnvironment)?;
        let version = self.version() + 1;
        let key = MasterKey::generate(version).map_err(RotateError::Crypto)?;
        write_private(
            &dir.join(format!("{VERSION_FILE_PREFIX}{version}")),
            &key.to_base64(),
        )?;
        self.reload().map_err(RotateError::Crypto)?;
        Ok(version)
    }

    /// Destroys a version no data key is wrapped under any more (the caller checked), so that
    /// nothing it wrapped (in an old backup, say) can be opened again. Version 1 is
    /// `master.key`; the next start puts a fresh, unused key there.
    pub fn retire(&self, version: u32) -> Result<(), RotateError> {
        let dir = self.dir.as_ref().ok_or(RotateError::KeyFromEnvironment)?;
        if version == self.version() {
            return Err(RotateError::CannotRetire(version));
        }
        let file = if version == 1 {
            dir.join(crate::platform::config::keys::MASTER_KEY_FILE)
        } else {
            dir.join(format!("{VERSION_FILE_PREFIX}{version}"))
        };
        std::fs::remove_file(file)?;
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&version);
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("the master key comes from TRANSFER_DESK_MASTER_KEY: rotation works with the key files in the data directory")]
    KeyFromEnvironment,
    #[error("version {0} is the current key and cannot be retired")]
    CannotRetire(u32),
    #[error("version {version} still wraps {documents} document key(s): run `keys rotate` first")]
    InUse { version: u32, documents: u64 },
    #[error("no such key version: {0}")]
    Unknown(u32),
    #[error("cannot write the key file: {0}")]
    Io(#[from] std::io::Error),
    #[error("key error: {0}")]
    Crypto(CryptoError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Writes a new secret file that only the owner can read, atomically.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = path.with_extension("new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// What a rotation did.
#[derive(Debug)]
pub struct RotationReport {
    pub version: u32,
    /// A new version was created by this run (not a rerun finishing an earlier one).
    pub created: bool,
    pub rewrapped: usize,
    /// Live document keys still under an older version (0 when done).
    pub remaining: u64,
}

use entities::document;
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

/// The version a live document's key is wrapped under: its wrap version, or the version it
/// was sealed under while it was never wrapped again.
fn wrapped_under() -> SimpleExpr {
    Func::coalesce([
        Expr::col(document::Column::WrapVersion),
        Expr::col(document::Column::KeyVersion),
    ])
    .into()
}

fn under(version: u32) -> SimpleExpr {
    wrapped_under().eq(version as i32)
}

fn not_under(version: u32) -> SimpleExpr {
    wrapped_under().ne(version as i32)
}

async fn left_behind(db: &DatabaseConnection, current: u32) -> Result<u64, sea_orm::DbErr> {
    document::Entity::find()
        .filter(live_documents())
        .filter(not_under(current))
        .count(db)
        .await
}

/// Rotates: makes a new version current (unless an earlier, interrupted run already did and
/// keys remain to move), then re-wraps every live data key under it, `batch` at a time. Each
/// key is moved by a guarded update, so a rerun, a concurrent shred or a second rotation
/// never loses one. `max_batches` stops early, as an interruption would.
pub async fn rotate(
    db: &DatabaseConnection,
    ring: &KeyRing,
    batch: u64,
    max_batches: Option<usize>,
) -> Result<RotationReport, RotateError> {
    let created = left_behind(db, ring.version()).await? == 0;
    if created {
        ring.add_version()?;
    }
    let current = ring.version();
    let mut rewrapped = 0;
    let mut batches = 0;
    loop {
        if max_batches.is_some_and(|max| batches >= max) {
            break;
        }
        let rows = document::Entity::find()
            .filter(live_documents())
            .filter(not_under(current))
            .limit(batch)
            .all(db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let Some(wrapped) = &row.wrapped_key else {
                continue;
            };
            let from = DocumentBinding {
                request_id: row.request_id,
                document_id: row.id,
                key_version: row.wrap_version.unwrap_or(row.key_version) as u32,
            };
            let data_key = ring.unwrap(wrapped, &from).map_err(RotateError::Crypto)?;
            let to = DocumentBinding {
                key_version: current,
                ..from
            };
            let rewrapped_key = ring.wrap(&data_key, &to).map_err(RotateError::Crypto)?;
            let moved = document::Entity::update_many()
                .col_expr(
                    document::Column::WrappedKey,
                    sea_orm::sea_query::Expr::value(Some(rewrapped_key)),
                )
                .col_expr(
                    document::Column::WrapVersion,
                    sea_orm::sea_query::Expr::value(Some(current as i32)),
                )
                .filter(document::Column::Id.eq(row.id))
                .filter(document::Column::WrappedKey.eq(wrapped.clone()))
                .exec(db)
                .await?;
            rewrapped += moved.rows_affected as usize;
        }
        batches += 1;
    }
    reseal_stored_secrets(db, ring).await?;
    Ok(RotationReport {
        version: current,
        created,
        rewrapped,
        remaining: left_behind(db, current).await?,
    })
}

/// What the audit log's sealed signing key is bound to.
pub const LOG_KEY_CONTEXT: &[u8] = b"transfer-desk audit log signing key v1";
/// What the sealed e-ID verifier key is bound to.
pub const EID_VERIFIER_KEY_CONTEXT: &[u8] = b"transfer-desk e-ID verifier key v1";

/// What a wallet session's sealed ECDH key is bound to: its session, so that one session's
/// sealed key cannot be moved to another.
pub fn eid_session_key_context(session_id: uuid::Uuid) -> Vec<u8> {
    [
        b"transfer-desk e-ID session key v1 ".as_slice(),
        session_id.as_bytes(),
    ]
    .concat()
}

/// `sealed` opened and sealed again under the current version; `None` when it already is.
fn resealed(ring: &KeyRing, context: &[u8], sealed: &[u8]) -> Result<Option<Vec<u8>>, RotateError> {
    if sealed.starts_with(&ring.version().to_be_bytes()) {
        return Ok(None);
    }
    let secret = ring
        .open_secret(context, sealed)
        .map_err(RotateError::Crypto)?;
    let again = ring
        .seal_secret(context, &secret)
        .map_err(RotateError::Crypto)?;
    Ok(Some(again))
}

/// Seals the other secrets kept in the database (the audit log's signing keys, the e-ID
/// verifier key, live wallet sessions' keys) under the current version too, so that retiring
/// an older version never takes one with it. Each row moves by a guarded update: a session
/// answered meanwhile keeps its key deleted.
async fn reseal_stored_secrets(db: &DatabaseConnection, ring: &KeyRing) -> Result<(), RotateError> {
    use entities::{eid_session, eid_verifier_key, log_key};
    use sea_orm::sea_query::Expr;
    for stored in log_key::Entity::find().all(db).await? {
        if let Some(again) = resealed(ring, LOG_KEY_CONTEXT, &stored.sealed_private)? {
            log_key::Entity::update_many()
                .col_expr(log_key::Column::SealedPrivate, Expr::value(again))
                .filter(log_key::Column::Name.eq(stored.name))
                .filter(log_key::Column::SealedPrivate.eq(stored.sealed_private))
                .exec(db)
                .await?;
        }
    }
    for stored in eid_verifier_key::Entity::find().all(db).await? {
        if let Some(again) = resealed(ring, EID_VERIFIER_KEY_CONTEXT, &stored.sealed_private)? {
            eid_verifier_key::Entity::update_many()
                .col_expr(eid_verifier_key::Column::SealedPrivate, Expr::value(again))
                .filter(eid_verifier_key::Column::Name.eq(stored.name))
                .filter(eid_verifier_key::Column::SealedPrivate.eq(stored.sealed_private))
                .exec(db)
                .await?;
        }
    }
    let live = eid_session::Entity::find()
        .filter(eid_session::Column::SealedKey.is_not_null())
        .all(db)
        .await?;
    for session in live {
        let Some(sealed) = session.sealed_key else {
            continue;
        };
        let context = eid_session_key_context(session.id);
        if let Some(again) = resealed(ring, &context, &sealed)? {
            eid_session::Entity::update_many()
                .col_expr(eid_session::Column::SealedKey, Expr::value(Some(again)))
                .filter(eid_session::Column::Id.eq(session.id))
                .filter(eid_session::Column::SealedKey.eq(sealed))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Each version held, with the live document keys wrapped under it.
pub async fn usage(
    db: &DatabaseConnection,
    ring: &KeyRing,
) -> Result<Vec<(u32, u64)>, sea_orm::DbErr> {
    let mut out = Vec::new();
    for version in ring.versions() {
        let documents = document::Entity::find()
            .filter(live_documents())
            .filter(under(version))
            .count(db)
            .await?;
        out.push((version, documents));
    }
    Ok(out)
}

/// Removes an older version once no live document key is wrapped under it.
pub async fn retire(
    db: &DatabaseConnection,
    ring: &KeyRing,
    version: u32,
) -> Result<(), RotateError> {
    if !ring.versions().contains(&version) {
        return Err(RotateError::Unknown(version));
    }
    if version == ring.version() {
        return Err(RotateError::CannotRetire(version));
    }
    let documents = document::Entity::find()
        .filter(live_documents())
        .filter(under(version))
        .count(db)
        .await?;
    if documents > 0 {
        return Err(RotateError::InUse { version, documents });
    }
    ring.retire(version)
}
/// A document that can still be read: its wrapped key exists. Destroying the wrapped key
/// is what shreds a document, so this is the one meaning of "live" everywhere.
pub fn live_documents() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::ColumnTrait;
    entities::document::Column::WrappedKey.is_not_null()
}
