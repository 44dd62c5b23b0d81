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

/// An address mail can be sent to: one the mail library accepts (the outbox would otherwise
/// retry it forever), with a host that is a domain name.
pub fn is_plausible_email(email: &str) -> bool {
    if email.parse::<lettre::Address>().is_err() {
        return false;
    }
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

/// Why a list of nameservers was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameserverError {
    #[error("at least {MIN_NAMESERVERS} nameservers are needed")]
    TooFew,
    #[error("at most {MAX_NAMESERVERS} nameservers are allowed")]
    TooMany,
    #[error("“{0}” is not a host name")]
    Invalid(String),
    #[error("“{0}” is listed twice")]
    Duplicate(String),
}

pub const MIN_NAMESERVERS: usize = 2;
pub const MAX_NAMESERVERS: usize = 13;

/// Host names separated by spaces, commas, semicolons or line breaks, normalised like
/// domains (so `NS1.Bücher.de.` and `ns1.xn--bcher-kva.de` are the same), in the order given.
pub fn parse_nameservers(input: &str) -> Result<Vec<String>, NameserverError> {
    let mut hosts: Vec<String> = Vec::new();
    for typed in input
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|part| !part.is_empty())
    {
        let host = normalize_domain(typed)
            .map_err(|_| NameserverError::Invalid(truncate(typed.trim())))?;
        if hosts.contains(&host) {
            return Err(NameserverError::Duplicate(host));
        }
        hosts.push(host);
        if hosts.len() > MAX_NAMESERVERS {
            return Err(NameserverError::TooMany);
        }
    }
    if hosts.len() < MIN_NAMESERVERS {
        return Err(NameserverError::TooFew);
    }
    Ok(hosts)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioEntry {
    pub domain: String,
    pub registrant_name: String,
    pub registrant_email: String,
    pub registrant_phone: Option<String>,
    /// The current nameservers, one per line.
    pub nameservers: Option<String>,
    /// The registrant's language code (`en`, `fr`, `de`, `it`), for the notices they get.
    pub language: Option<String>,
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
    #[error("the CSV header must be domain,registrant_name,registrant_email[,registrant_phone][,nameservers][,language]; found: {0}")]
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
    let optional: Vec<&str> = header.iter().skip(3).map(String::as_str).collect();
    let columns = Columns {
        phone: optional.iter().position(|h| *h == "registrant_phone"),
        nameservers: optional.iter().position(|h| *h == "nameservers"),
        language: optional.iter().position(|h| *h == "language"),
        count: header.len(),
    };
    let known_optional = [columns.phone, columns.nameservers, columns.language]
        .iter()
        .filter(|c| c.is_some())
        .count();
    if header.len() < 3 || header[..3] != expected || optional.len() != known_optional {
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
        match parse_row(&record, &columns) {
            Ok(entry) => entries.push(entry),
            Err(reason) => rejected.push(RowError { line, reason }),
        }
    }
    Ok((entries, rejected))
}

/// Where the optional columns are, counted after the three required ones.
struct Columns {
    phone: Option<usize>,
    nameservers: Option<usize>,
    language: Option<usize>,
    count: usize,
}

fn parse_row(record: &csv::StringRecord, columns: &Columns) -> Result<PortfolioEntry, String> {
    let expected_len = columns.count;
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
    let optional = |position: Option<usize>| {
        position
            .and_then(|p| record.get(3 + p))
            .filter(|value| !value.is_empty())
    };
    let registrant_phone = optional(columns.phone).map(str::to_owned);
    let nameservers = match optional(columns.nameservers) {
        Some(listed) => Some(
            parse_nameservers(listed)
                .map_err(|e| format!("nameservers: {e}"))?
                .join("\n"),
        ),
        None => None,
    };
    let language = match optional(columns.language) {
        Some(code) => Some(
            crate::platform::i18n::Lang::from_code(&code.to_ascii_lowercase())
                .ok_or_else(|| format!("language “{}” is not en, fr, de or it", truncate(code)))?
                .code()
                .to_owned(),
        ),
        None => None,
    };
    Ok(PortfolioEntry {
        domain,
        registrant_name,
        registrant_email,
        registrant_phone,
        nameservers,
        language,
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
            nameservers: Set(entry.nameservers.clone()),
            language: Set(entry.language.clone()),
        });
        domain::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(domain::Column::Name)
                    .update_columns([
                        domain::Column::RegistrantName,
                        domain::Column::RegistrantEmail,
                        domain::Column::RegistrantPhone,
                        domain::Column::ImportedAt,
                        domain::Column::Nameservers,
                        domain::Column::Language,
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
    fn nameservers_are_split_normalised_and_counted() {
        assert_eq!(
            parse_nameservers("NS1.Bücher.de., ns2.example.net\n ns3.example.net;").unwrap(),
            ["ns1.xn--bcher-kva.de", "ns2.example.net", "ns3.example.net"]
        );
        assert_eq!(
            parse_nameservers("ns1.example.net"),
            Err(NameserverError::TooFew)
        );
        assert_eq!(parse_nameservers(" , "), Err(NameserverError::TooFew));
        assert_eq!(
            parse_nameservers("ns1.example.net NS1.example.net."),
            Err(NameserverError::Duplicate("ns1.example.net".into()))
        );
        assert_eq!(
            parse_nameservers("ns1.example.net <script>"),
            Err(NameserverError::Invalid("<script>".into()))
        );
        let fourteen: Vec<String> = (1..=14).map(|i| format!("ns{i}.example.net")).collect();
        assert_eq!(
            parse_nameservers(&fourteen.join(" ")),
            Err(NameserverError::TooMany)
        );
        assert!(parse_nameservers(&fourteen[..13].join(" ")).is_ok());
    }

    #[test]
    fn the_portfolio_may_list_current_nameservers_in_any_optional_order() {
        let csv = "domain,registrant_name,registrant_email,nameservers,registrant_phone\n\
                   example.com,Anna,anna@example.org,ns1.old-host.ch ns2.old-host.ch,+41 44 000\n\
                   example.org,Bob,bob@example.org,,\n\
                   example.net,Carl,carl@example.org,only-one.example.net,\n";
        let (entries, rejected) = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].nameservers.as_deref(),
            Some("ns1.old-host.ch\nns2.old-host.ch")
        );
        assert_eq!(entries[0].registrant_phone.as_deref(), Some("+41 44 000"));
        assert_eq!(entries[1].nameservers, None);
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].reason.contains("nameservers"), "{:?}", rejected);
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(is_plausible_email("anna@example.org"));
        assert!(!is_plausible_email("anna"));
        assert!(!is_plausible_email("anna@@example.org"));
        assert!(!is_plausible_email("an na@example.org"));
        assert!(!is_plausible_email("anna@localhost"));
        // Shapes the mail library refuses: the outbox could never send to them.
        for refused in ["anna(x)@example.org", "a<b>@example.org", "a;b@example.org"] {
            assert!(!is_plausible_email(refused), "{refused}");
        }
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
