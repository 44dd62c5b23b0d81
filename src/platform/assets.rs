//! The pages' templates, translations and static files are compiled into the binary, so that
//! a binary copied to a server (or installed with `cargo install`) needs nothing beside it.
//! At start they are written to `DATA_DIR/.assets/`, which the template engine and the file
//! server read; a host's own templates (`TRANSFER_DESK_TEMPLATES_DIR`) are laid over them.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

static TEMPLATES: Dir = include_dir!("$CARGO_MANIFEST_DIR/templates");
static STATIC: Dir = include_dir!("$CARGO_MANIFEST_DIR/static");

/// Where the unpacked templates and static files are.
pub struct Unpacked {
    pub templates: PathBuf,
    pub static_files: PathBuf,
}

/// Writes the built-in templates and static files under `data_dir`, replacing what an
/// earlier start left, then copies the host's own templates (`.html.tera` files) over them.
pub fn unpack(data_dir: &Path, own_templates: Option<&Path>) -> std::io::Result<Unpacked> {
    let root = data_dir.join(".assets");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let unpacked = Unpacked {
        templates: root.join("templates"),
        static_files: root.join("static"),
    };
    write_dir(&TEMPLATES, &unpacked.templates)?;
    write_dir(&STATIC, &unpacked.static_files)?;
    if let Some(own) = own_templates {
        let mut copied = 0;
        for entry in std::fs::read_dir(own)? {
            let entry = entry?;
            let path = entry.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            // Only regular files: a link could make the template engine serve any file the
            // service can read (the master key) as a page.
            let kind = entry.file_type()?;
            if kind.is_symlink() || (name.ends_with(".html.tera") && !kind.is_file()) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "{} is not a regular file (a link or a directory): TRANSFER_DESK_TEMPLATES_DIR may hold only regular *.html.tera files",
                        path.display()
                    ),
                ));
            }
            if kind.is_file() && name.ends_with(".html.tera") {
                copy_regular_file(&path, &unpacked.templates.join(name))?;
                copied += 1;
            }
        }
        tracing::info!(dir = %own.display(), copied, "the host's own templates replace the built-in ones");
    }
    Ok(unpacked)
}

/// Copies `from` refusing to follow a link swapped in since it was listed.
fn copy_regular_file(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut source = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(from)?;
    let mut target = std::fs::File::create(to)?;
    std::io::copy(&mut source, &mut target).map(|_| ())
}

fn write_dir(dir: &Dir, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for file in dir.files() {
        let name = file.path().file_name().unwrap_or_default();
        std::fs::write(to.join(name), file.contents())?;
    }
    for sub in dir.dirs() {
        let name = sub.path().file_name().unwrap_or_default();
        write_dir(sub, &to.join(name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_files_unpack_and_own_templates_replace_them() {
        let data = tempfile::tempdir().unwrap();
        let own = tempfile::tempdir().unwrap();
        std::fs::write(own.path().join("base.html.tera"), "branded").unwrap();
        std::fs::write(own.path().join("notes.txt"), "ignored").unwrap();
        let unpacked = unpack(data.path(), Some(own.path())).unwrap();
        assert_eq!(
            std::fs::read_to_string(unpacked.templates.join("base.html.tera")).unwrap(),
            "branded"
        );
        assert!(unpacked.templates.join("request_form.html.tera").exists());
        assert!(unpacked.templates.join("locales/de/main.ftl").exists());
        assert!(!unpacked.templates.join("notes.txt").exists());
        assert!(unpacked.static_files.join("form.js").exists());
        // A second start begins from the built-in files again.
        let again = unpack(data.path(), None).unwrap();
        assert_ne!(
            std::fs::read_to_string(again.templates.join("base.html.tera")).unwrap(),
            "branded"
        );
    }

    #[test]
    fn a_link_among_the_hosts_templates_stops_the_start() {
        let data = tempfile::tempdir().unwrap();
        let own = tempfile::tempdir().unwrap();
        let secret = data.path().join("master.key");
        std::fs::write(&secret, "the master key").unwrap();
        std::os::unix::fs::symlink(&secret, own.path().join("status.html.tera")).unwrap();
        let error = unpack(data.path(), Some(own.path()))
            .err()
            .expect("refused");
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let templates = data.path().join(".assets/templates/status.html.tera");
        let copied = std::fs::read_to_string(templates).unwrap_or_default();
        assert!(!copied.contains("the master key"));
    }
}
