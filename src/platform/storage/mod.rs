//! The store of sealed documents, chosen by `TRANSFER_DESK_DOCUMENT_STORE`: files in a
//! directory (`fs:PATH`, the default), rows in the database (`db`), or objects in an
//! S3-compatible bucket (`s3://bucket/prefix`). Only ciphertext ever reaches a store; each
//! write appears whole or not at all, and the sweeper removes what no document refers to.

mod database;
mod files;
mod objects;

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub use database::DatabaseStore;
pub use files::FileStore;
pub use objects::ObjectStore;

/// Sealed documents are named `<document id>.sealed`.
const SUFFIX: &str = ".sealed";

pub fn name_for(document_id: Uuid) -> String {
    format!("{document_id}{SUFFIX}")
}

/// Names are plain (letters, digits, `-` and `.`, no leading dot): none escapes a directory
/// or a bucket prefix.
fn check_name(name: &str) -> io::Result<()> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.starts_with('.');
    if plain {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a document name",
        ))
    }
}

/// Which store the operator chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// Files in the uploads directory.
    Files,
    /// Rows of the `document_blobs` table.
    Database,
    /// Objects under `prefix` in `bucket`; endpoint, region and credentials come from the
    /// usual `AWS_*` variables.
    Objects { bucket: String, prefix: String },
}

impl StoreChoice {
    /// Reads `fs:PATH`, `db` or `s3://bucket/prefix`; `fs:` also names the directory.
    pub fn parse(text: &str) -> Result<(Self, Option<PathBuf>), String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("fs:") {
            if path.is_empty() {
                return Err(
                    "fs: needs a directory, as in fs:/var/lib/transfer-desk/uploads".into(),
                );
            }
            return Ok((Self::Files, Some(PathBuf::from(path))));
        }
        if text == "db" {
            return Ok((Self::Database, None));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("s3:// needs a bucket, as in s3://my-bucket/documents".into());
            }
            return Ok((
                Self::Objects {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                },
                None,
            ));
        }
        Err(format!(
            "{text:?} is not a document store: use fs:PATH, db or s3://bucket/prefix"
        ))
    }
}

#[derive(Clone, Debug)]
pub enum DocumentStore {
    Files(FileStore),
    Database(DatabaseStore),
    Objects(ObjectStore),
}

impl DocumentStore {
    /// Opens the chosen store; `dir` is the uploads directory of the `fs` store.
    pub fn open(choice: &StoreChoice, dir: &Path, db: &DatabaseConnection) -> io::Result<Self> {
        Ok(match choice {
            StoreChoice::Files => Self::Files(FileStore::open(dir)?),
            StoreChoice::Database => Self::Database(DatabaseStore::new(db.clone())),
            StoreChoice::Objects { bucket, prefix } => {
                Self::Objects(ObjectStore::from_env(bucket, prefix)?)
            }
        })
    }

    /// Writes a sealed document under `name`, whole or not at all.
    pub async fn put(&self, name: &str, sealed: Vec<u8>) -> io::Result<()> {
        check_name(name)?;
        match self {
            Self::Files(files) => {
                let (files, name) = (files.clone(), name.to_owned());
                tokio::task::spawn_blocking(move || files.put(&name, &sealed))
                    .await
                    .map_err(io::Error::other)?
            }
            Self::Database(rows) => rows.put(name, sealed).await,
            Self::Objects(objects) => objects.put(name, sealed).await,
        }
    }

    pub async fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        check_name(name)?;
        match self {
            Self::Files(files) => {
                let (files, name) = (files.clone(), name.to_owned());
                tokio::task::spawn_blocking(move || files.get(&name))
                    .await
                    .map_err(io::Error::other)?
            }
            Self::Database(rows) => rows.get(name).await,
            Self::Objects(objects) => objects.get(name).await,
        }
    }

    /// Removes a sealed document; one that is already gone is not an error.
    pub async fn remove(&self, name: &str) -> io::Result<()> {
        check_name(name)?;
        match self {
            Self::Files(files) => files.remove(name),
            Self::Database(rows) => rows.remove(name).await,
            Self::Objects(objects) => objects.remove(name).await,
        }
    }

    /// The store's own entries last written before `cutoff` (with the `fs` store,
    /// interrupted writes too), for the orphan sweep.
    pub async fn entries_older_than(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        match self {
            Self::Files(files) => files.entries_older_than(cutoff),
            Self::Database(rows) => rows.entries_older_than(cutoff).await,
            Self::Objects(objects) => objects.entries_older_than(cutoff).await,
        }
    }

    /// Removes an entry that [`Self::entries_older_than`] listed.
    pub async fn remove_entry(&self, name: &str) -> io::Result<()> {
        match self {
            Self::Files(files) => files.remove_entry(name),
            other => other.remove(name).await,
        }
    }

    /// Whether the store takes a write now (for `/readyz`); leaves nothing behind.
    pub async fn probe(&self) -> io::Result<()> {
        match self {
            Self::Files(files) => files.probe(),
            Self::Database(rows) => rows.probe().await,
            Self::Objects(objects) => objects.probe().await,
        }
    }

    /// The directory of the `fs` store (backups copy it).
    pub fn files_dir(&self) -> Option<&Path> {
        match self {
            Self::Files(files) => Some(files.dir()),
            _ => None,
        }
    }

    /// What the log says about the store: never a credential.
    pub fn describe(&self) -> String {
        match self {
            Self::Files(files) => format!("files in {}", files.dir().display()),
            Self::Database(_) => "rows of the database".into(),
            Self::Objects(objects) => objects.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_stores_are_named_as_operators_write_them() {
        assert_eq!(
            StoreChoice::parse("fs:/srv/td/uploads").unwrap(),
            (StoreChoice::Files, Some(PathBuf::from("/srv/td/uploads")))
        );
        assert_eq!(
            StoreChoice::parse("db").unwrap(),
            (StoreChoice::Database, None)
        );
        assert_eq!(
            StoreChoice::parse("s3://docs/transfer-desk/").unwrap().0,
            StoreChoice::Objects {
                bucket: "docs".into(),
                prefix: "transfer-desk".into()
            }
        );
        assert_eq!(
            StoreChoice::parse("s3://docs").unwrap().0,
            StoreChoice::Objects {
                bucket: "docs".into(),
                prefix: String::new()
            }
        );
        for wrong in [
            "",
            "fs:",
            "s3://",
            "s3:///prefix",
            "database",
            "/srv/uploads",
        ] {
            assert!(StoreChoice::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn names_cannot_escape_any_store() {
        for name in ["../x", "/etc/passwd", "", ".hidden", "a/b", "a\\b"] {
            assert!(check_name(name).is_err(), "{name}");
        }
        check_name(&name_for(Uuid::new_v4())).unwrap();
    }
}
