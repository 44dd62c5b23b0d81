//! The domain portfolio: normalisation and import from the host's registry data.

use std::io::Read;

use chrono::Utc;
use entities::domain;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("no domain name given")]
    Empty,
    #[error("“{0}” is not a valid domain name")]
    Invalid(String),
}

/// Lowercase, trailing dot removed, internationalised names in punycode (`xn--…`).
pub fn normalize_domain(input: &str) -> Result<String, DomainError> {
    let trimmed = input.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(DomainError::Empty);
    }
    let invalid = || DomainError::Invalid(input.trim().chars().take(100).collect());
    let ascii = idna::domain_to_ascii_strict(trimmed).map_err(|_| invalid())?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let valid = ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    valid.then_some(ascii).ok_or_else(invalid)
}

/// A plausible email address: one `@`, something before it, a dotted domain after it.
pub fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, host)) => {
            !local.is_empty()
                && local.len() <= 64
                && !host.contains('@')
                && email.len() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && normalize_domain(host).is_ok()
        }
        None => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioEntry {
    pub domain: String,
    pub registrant_name: String,
    pub registrant_email: String,
    pub registrant_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub rejected: Vec<RowError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the CSV header must be domain,registrant_name,registrant_email[,registrant_phone]; found: {0}")]
    Header(String),
    #[error("cannot read the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// Parses the portfolio CSV; bad rows are reported with their line number, good rows kept.
pub fn parse_csv(input: impl Read) -> Result<(Vec<PortfolioEntry>, Vec<RowError>), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let expected = ["domain", "registrant_name", "registrant_email"];
    let has_phone = header.get(3).is_some_and(|h| h == "registrant_phone");
    if header.len() < 3
        || header[..3] != expected
        || (header.len() > 3 && !has_phone)
        || header.len() > 4
    {
        return Err(ImportError::Header(header.join(",")));
    }
    let mut entries = Vec::new();
    let mut rejected = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                rejected.push(RowError {
                    line,
                    reason: "the row cannot be read as CSV".into(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        match parse_row(&record, has_phone) {
            Ok(entry) => entries.push(entry),
            Err(reason) => rejected.push(RowError { line, reason }),
        }
    }
    Ok((entries, rejected))
}

fn parse_row(record: &csv::StringRecord, has_phone: bool) -> Result<PortfolioEntry, String> {
    let expected_len = if has_phone { 4 } else { 3 };
    if record.len() < 3 || record.len() > expected_len {
        return Err(format!(
            "expected {expected_len} columns, found {}",
            record.len()
        ));
    }
    let domain = normalize_domain(&record[0]).map_err(|e| e.to_string())?;
    let registrant_name = record[1].to_owned();
    if registrant_name.is_empty() {
        return Err("the registrant name is empty".into());
    }
    let registrant_email = record[2].to_owned();
    if !is_plausible_email(&registrant_email) {
        return Err(format!(
            "“{}” is not an email address",
            truncate(&registrant_email)
        ));
    }
    let registrant_phone = record.get(3).filter(|p| !p.is_empty()).map(str::to_owned);
    Ok(PortfolioEntry {
        domain,
        registrant_name,
        registrant_email,
        registrant_phone,
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(100).collect()
}

/// Inserts or updates each entry (keyed by domain): importing the same file twice is harmless.
pub async fn upsert(db: &impl ConnectionTrait, entries: &[PortfolioEntry]) -> Result<usize, DbErr> {
    let now = Utc::now();
    for chunk in entries.chunks(500) {
        let rows = chunk.iter().map(|entry| domain::ActiveModel {
            name: Set(entry.domain.clone()),
            registrant_name: Set(entry.registrant_name.clone()),
            registrant_email: Set(entry.registrant_email.clone()),
            registrant_phone: Set(entry.registrant_phone.clone()),
            imported_at: Set(now),
        });
        domain::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(domain::Column::Name)
                    .update_columns([
                        domain::Column::RegistrantName,
                        domain::Column::RegistrantEmail,
                        domain::Column::RegistrantPhone,
                        domain::Column::ImportedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(entries.len())
}

/// Parses and imports a portfolio CSV.
pub async fn import_csv(
    db: &impl ConnectionTrait,
    input: impl Read,
) -> Result<ImportReport, ImportError> {
    let (entries, rejected) = parse_csv(input)?;
    // A file with the same domain twice keeps its last row.
    let mut unique: Vec<PortfolioEntry> = Vec::with_capacity(entries.len());
    for entry in entries {
        match unique.iter_mut().find(|e| e.domain == entry.domain) {
            Some(existing) => *existing = entry,
            None => unique.push(entry),
        }
    }
    let imported = upsert(db, &unique).await?;
    Ok(ImportReport { imported, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        assert_eq!(normalize_domain(" Example.COM. ").unwrap(), "example.com");
        assert_eq!(normalize_domain("bücher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(
            normalize_domain("xn--bcher-kva.de").unwrap(),
            "xn--bcher-kva.de"
        );
        assert_eq!(normalize_domain("ÉCOLE.fr").unwrap(), "xn--cole-9oa.fr");
    }

    #[test]
    fn non_domains_are_refused() {
        for bad in [
            "",
            ".",
            "localhost",
            "exa mple.com",
            "-bad.com",
            "a..b",
            "<script>.com",
            "1.2.3.4",
            "x@y.com",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(is_plausible_email("anna@example.org"));
        assert!(!is_plausible_email("anna"));
        assert!(!is_plausible_email("anna@@example.org"));
        assert!(!is_plausible_email("an na@example.org"));
        assert!(!is_plausible_email("anna@localhost"));
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_good_rows_kept() {
        let csv = "domain,registrant_name,registrant_email,registrant_phone\n\
                   Example.com.,Anna Muster,anna@example.com,+41 44 000 00 00\n\
                   not a domain,Bob,bob@example.com,\n\
                   shop.example,Carla,carla-at-example,\n\
                   müller.de,Jörg Müller,j@mueller.de\n";
        let (entries, rejected) = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].domain, "example.com");
        assert_eq!(
            entries[0].registrant_phone.as_deref(),
            Some("+41 44 000 00 00")
        );
        assert_eq!(entries[1].domain, "xn--mller-kva.de");
        assert_eq!(entries[1].registrant_phone, None);
        assert_eq!(
            rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn a_wrong_header_is_refused_whole() {
        assert!(matches!(
            parse_csv("name,email\nexample.com,a@b.c\n".as_bytes()),
            Err(ImportError::Header(_))
        ));
    }
}
