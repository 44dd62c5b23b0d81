//! Where things are kept: the document store (`TRANSFER_DESK_DOCUMENT_STORE`, the uploads
//! directory) and the database (`DATABASE_URL`, SQLite in the data directory by default).

use std::path::Path;

use super::{ConfigError, Settings, Vars};

pub const SQLITE_FILE: &str = "transfer-desk.sqlite3";

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    if let Some(dir) = var("TRANSFER_DESK_UPLOADS_DIR") {
        settings.uploads_dir = dir.into();
    }
    if let Some(store) = var("TRANSFER_DESK_DOCUMENT_STORE") {
        let (choice, dir) = crate::platform::storage::StoreChoice::parse(&store)
            .map_err(|why| ConfigError::Invalid(format!("TRANSFER_DESK_DOCUMENT_STORE: {why}")))?;
        settings.document_store = choice;
        if let Some(dir) = dir {
            settings.uploads_dir = dir;
        }
    }
    if let Some(url) = var("DATABASE_URL") {
        settings.database_url = url;
    }
    Ok(())
}

impl Settings {
    /// The database URL with any password hidden, for logs.
    pub fn database_for_log(&self) -> String {
        redact_url(&self.database_url)
    }
}

pub(super) fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(SQLITE_FILE).display())
}

fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &base[..scheme_end], &base[at + 1..])
        }
        _ => base.to_owned(),
    };
    if query.is_empty() {
        return base;
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=…"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_stay_out_of_logs() {
        assert_eq!(
            redact_url("postgres://td:s3cret@db.internal:5432/td"),
            "postgres://…@db.internal:5432/td"
        );
        assert_eq!(
            redact_url("sqlite://data/x.sqlite3?mode=rwc"),
            "sqlite://data/x.sqlite3?mode=rwc"
        );
        assert_eq!(
            redact_url("postgres://db.internal/td?user=td&password=s3cret&sslmode=require"),
            "postgres://db.internal/td?user=td&password=…&sslmode=require"
        );
    }
}
