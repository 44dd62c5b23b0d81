//! The `fs` document store: ciphertext files in a directory, written atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use uuid::Uuid;

/// Files in the store are named after their document id; nothing else lives there.
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
}

use super::{check_name, SUFFIX};

const PARTIAL_PREFIX: &str = ".partial-";

impl FileStore {
    /// Opens (creating) the store's directory, readable by this user alone.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self { dir })
    }

    /// Blobs and interrupted writes last changed before `cutoff`, by name; anything else in
    /// the directory (a `.gitkeep`, an operator's note) is not the store's and is left alone.
    pub fn entries_older_than(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = name.ends_with(SUFFIX) || name.starts_with(PARTIAL_PREFIX);
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified <= cutoff);
            if ours && old_enough && entry.file_type().is_ok_and(|t| t.is_file()) {
                found.push(name);
            }
        }
        Ok(found)
    }

    /// Removes an entry that [`Self::entries_older_than`] listed.
    pub fn remove_entry(&self, name: &str) -> io::Result<()> {
        match name.strip_prefix(PARTIAL_PREFIX) {
            Some(rest) => {
                self.path_of(rest)?;
                fs::remove_file(self.dir.join(name))
            }
            None => self.remove(name),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
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

    /// Whether a file can be written (and removed) in the store now.
    pub fn probe(&self) -> io::Result<()> {
        let probe = self
            .dir
            .join(format!("{PARTIAL_PREFIX}probe-{}", Uuid::new_v4().simple()));
        fs::write(&probe, b"")?;
        fs::remove_file(&probe)
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
        check_name(name)?;
        Ok(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_remove_round_trip_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let name = crate::platform::storage::name_for(Uuid::new_v4());
        store.put(&name, b"sealed bytes").unwrap();
        assert_eq!(store.get(&name).unwrap(), b"sealed bytes");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        store.remove(&name).unwrap();
        store.remove(&name).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn only_the_stores_own_old_entries_are_listed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let mode = fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let name = crate::platform::storage::name_for(Uuid::new_v4());
        store.put(&name, b"sealed").unwrap();
        let partial = format!("{PARTIAL_PREFIX}{name}-1234");
        fs::write(dir.path().join(&partial), b"half").unwrap();
        fs::write(dir.path().join(".gitkeep"), b"").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        let mut listed = store.entries_older_than(later).unwrap();
        listed.sort();
        assert_eq!(listed, [partial.clone(), name.clone()]);
        assert!(store
            .entries_older_than(SystemTime::UNIX_EPOCH)
            .unwrap()
            .is_empty());
        store.remove_entry(&partial).unwrap();
        store.remove_entry(&name).unwrap();
        assert!(store.remove_entry("../escape").is_err());
        assert!(dir.path().join(".gitkeep").exists());
    }

    #[test]
    fn names_cannot_escape_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        for name in ["../x", "/etc/passwd", "", ".hidden", "a/b"] {
            assert!(store.put(name, b"x").is_err(), "{name}");
            assert!(store.get(name).is_err(), "{name}");
        }
    }
}
