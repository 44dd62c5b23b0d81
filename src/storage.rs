//! The encrypted blob store: ciphertext files in `uploads/`, written atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Files in the store are named after their document id; nothing else lives there.
#[derive(Clone, Debug)]
pub struct BlobStore {
    dir: PathBuf,
}

const SUFFIX: &str = ".sealed";
const PARTIAL_PREFIX: &str = ".partial-";

impl BlobStore {
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name_for(document_id: Uuid) -> String {
        format!("{document_id}{SUFFIX}")
    }

    /// Writes `sealed` under `name`: temp name, fsync, rename, fsync of the directory.
    /// A reader never sees a half-written blob; a crash leaves at most a `.partial-` file.
    pub fn put(&self, name: &str, sealed: &[u8]) -> io::Result<()> {
        let final_path = self.path_of(name)?;
        let partial = self.dir.join(format!(
            "{PARTIAL_PREFIX}{name}-{}",
            Uuid::new_v4().simple()
        ));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&partial)?;
            file.write_all(sealed)?;
            file.sync_all()?;
            fs::rename(&partial, &final_path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&partial);
        }
        result
    }

    pub fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path_of(name)?)
    }

    /// Removes a blob; one that is already gone is not an error.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        match fs::remove_file(self.path_of(name)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn path_of(&self, name: &str) -> io::Result<PathBuf> {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !name.starts_with('.');
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a blob name",
            ));
        }
        Ok(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_remove_round_trip_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let name = BlobStore::name_for(Uuid::new_v4());
        store.put(&name, b"sealed bytes").unwrap();
        assert_eq!(store.get(&name).unwrap(), b"sealed bytes");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        store.remove(&name).unwrap();
        store.remove(&name).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn names_cannot_escape_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        for name in ["../x", "/etc/passwd", "", ".hidden", "a/b"] {
            assert!(store.put(name, b"x").is_err(), "{name}");
            assert!(store.get(name).is_err(), "{name}");
        }
    }
}
