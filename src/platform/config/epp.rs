//! The registry account, from the environment: all of it or none of it.
//!
//! `TRANSFER_DESK_EPP_SERVER` (host:port), `TRANSFER_DESK_EPP_CA_FILE` (PEM; the system roots
//! when absent), `TRANSFER_DESK_EPP_CLIENT_CERT` and `TRANSFER_DESK_EPP_CLIENT_KEY` (PEM),
//! `TRANSFER_DESK_EPP_CLIENT_ID`, `TRANSFER_DESK_EPP_PASSWORD_FILE`. Every file is read at
//! start, so that a wrong path stops the start instead of the first approval.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::platform::config::Secret;

pub const SERVER: &str = "TRANSFER_DESK_EPP_SERVER";
pub const CA_FILE: &str = "TRANSFER_DESK_EPP_CA_FILE";
pub const CLIENT_CERT: &str = "TRANSFER_DESK_EPP_CLIENT_CERT";
pub const CLIENT_KEY: &str = "TRANSFER_DESK_EPP_CLIENT_KEY";
pub const CLIENT_ID: &str = "TRANSFER_DESK_EPP_CLIENT_ID";
pub const PASSWORD_FILE: &str = "TRANSFER_DESK_EPP_PASSWORD_FILE";

/// Every setting, the optional CA file included: any one of them asks for EPP.
const ALL: [&str; 6] = [
    SERVER,
    CA_FILE,
    CLIENT_CERT,
    CLIENT_KEY,
    CLIENT_ID,
    PASSWORD_FILE,
];
const REQUIRED: [&str; 5] = [SERVER, CLIENT_CERT, CLIENT_KEY, CLIENT_ID, PASSWORD_FILE];

/// Why the registry account cannot be used. Never holds the password or the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EppSettingsError {
    #[error("EPP is half configured: {} missing", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("EPP ({SERVER}) and TRANSFER_DESK_REGISTRY_COMMAND are both set: choose one way to reach the registry")]
    BothWays,
    #[error("{SERVER} must be host:port (the host as the registry's certificate names it)")]
    Server,
    #[error("{name}: cannot read {path}: {why}")]
    File {
        name: &'static str,
        path: String,
        why: String,
    },
    #[error("{0}: the file holds no usable PEM certificate")]
    NoCertificate(&'static str),
    #[error("{CLIENT_KEY}: the file holds no usable PEM private key")]
    NoKey,
    #[error("{PASSWORD_FILE}: the password must be 6 to 16 characters (RFC 5730's pwType)")]
    PasswordLength,
    #[error("{CLIENT_ID} must be 3 to 16 printable characters (RFC 5730's clIDType)")]
    ClientId,
    #[error("the TLS client cannot be set up: {0}")]
    Tls(String),
}

/// A registry account. `Debug` shows the server and the client id only.
#[derive(Clone)]
pub struct EppSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub password: Secret,
    /// The registry's roots (the CA file, or the system's) and our client certificate.
    pub tls: Arc<ClientConfig>,
    /// Connecting, TLS and the greeting together.
    pub connect_timeout: Duration,
    /// Each command's answer.
    pub command_timeout: Duration,
    /// Sessions tried per hand-off when the registry fails for a while (2400, 2500–2502, a
    /// lost connection), with `backoff` doubling between them.
    pub attempts: u32,
    pub backoff: Duration,
}

impl std::fmt::Debug for EppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EppSettings")
            .field("server", &format_args!("{}:{}", self.host, self.port))
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Reads the registry account; `Ok(None)` when none of its variables is set.
/// `registry_command` says whether the command way is configured too (which refuses).
pub fn from_vars(
    var: impl Fn(&str) -> Option<String>,
    registry_command: bool,
) -> Result<Option<EppSettings>, EppSettingsError> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if ALL.iter().all(|name| set(name).is_none()) {
        return Ok(None);
    }
    let missing: Vec<&'static str> = REQUIRED
        .into_iter()
        .filter(|name| set(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(EppSettingsError::Missing(missing));
    }
    if registry_command {
        return Err(EppSettingsError::BothWays);
    }
    let required = |name: &str| set(name).unwrap_or_default();
    let (host, port) = parse_server(&required(SERVER))?;
    let client_id = required(CLIENT_ID).trim().to_owned();
    if !(3..=16).contains(&client_id.chars().count()) || client_id.chars().any(char::is_control) {
        return Err(EppSettingsError::ClientId);
    }
    let password = read_password(Path::new(&required(PASSWORD_FILE)))?;
    let roots = set(CA_FILE).map(|path| read_certificates(CA_FILE, Path::new(&path)));
    let certificates = read_certificates(CLIENT_CERT, Path::new(&required(CLIENT_CERT)))?;
    let key = read_key(Path::new(&required(CLIENT_KEY)))?;
    let tls = client_config(roots.transpose()?, certificates, key)?;
    Ok(Some(EppSettings {
        host,
        port,
        client_id,
        password,
        tls: Arc::new(tls),
        connect_timeout: Duration::from_secs(15),
        command_timeout: Duration::from_secs(30),
        attempts: 3,
        backoff: Duration::from_secs(2),
    }))
}

fn parse_server(text: &str) -> Result<(String, u16), EppSettingsError> {
    let (host, port) = text
        .trim()
        .rsplit_once(':')
        .ok_or(EppSettingsError::Server)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().map_err(|_| EppSettingsError::Server)?;
    if host.is_empty() || port == 0 || ServerName::try_from(host).is_err() {
        return Err(EppSettingsError::Server);
    }
    Ok((host.to_ascii_lowercase(), port))
}

fn file_error(name: &'static str, path: &Path, why: impl std::fmt::Display) -> EppSettingsError {
    EppSettingsError::File {
        name,
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

/// The password is the file's first line; the file's other lines (and its trailing line
/// break) are not part of it.
fn read_password(path: &Path) -> Result<Secret, EppSettingsError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| file_error(PASSWORD_FILE, path, e))?,
    );
    let line = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    if !(6..=16).contains(&line.chars().count()) {
        return Err(EppSettingsError::PasswordLength);
    }
    Ok(Secret::new(line))
}

fn read_certificates(
    name: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, EppSettingsError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(name, path, e))?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| EppSettingsError::NoCertificate(name))?;
    if certificates.is_empty() {
        return Err(EppSettingsError::NoCertificate(name));
    }
    Ok(certificates)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, EppSettingsError> {
    let bytes =
        zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| file_error(CLIENT_KEY, path, e))?);
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| EppSettingsError::NoKey)
}

/// TLS 1.2 or 1.3 with ring; the registry's certificate is checked against `roots` (or the
/// system's) and its name against the server's host.
fn client_config(
    roots: Option<Vec<CertificateDer<'static>>>,
    certificates: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ClientConfig, EppSettingsError> {
    let tls = |e: rustls::Error| EppSettingsError::Tls(e.to_string());
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(tls)?;
    let builder = match roots {
        Some(roots) => {
            let mut store = RootCertStore::empty();
            for root in roots {
                store.add(root).map_err(tls)?;
            }
            builder.with_root_certificates(store)
        }
        None => builder.with_platform_verifier().map_err(tls)?,
    };
    builder
        .with_client_auth_cert(certificates, key)
        .map_err(tls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn no_epp_variable_means_no_epp() {
        assert!(from_vars(vars(&[]), true).unwrap().is_none());
    }

    #[test]
    fn a_partial_set_refuses_and_names_what_is_missing() {
        let error = from_vars(
            vars(&[(SERVER, "epp.example:700"), (CLIENT_ID, "desk")]),
            false,
        )
        .unwrap_err();
        assert_eq!(
            error,
            EppSettingsError::Missing(vec![CLIENT_CERT, CLIENT_KEY, PASSWORD_FILE])
        );
        assert!(error.to_string().contains(PASSWORD_FILE), "{error}");
        // The CA file alone asks for EPP too.
        let error = from_vars(vars(&[(CA_FILE, "/ca.pem")]), false).unwrap_err();
        assert_eq!(error, EppSettingsError::Missing(REQUIRED.to_vec()));
    }

    #[test]
    fn epp_and_the_command_together_refuse() {
        let all: Vec<(&str, &str)> = REQUIRED.iter().map(|name| (*name, "x:700")).collect();
        assert_eq!(
            from_vars(vars(&all), true).unwrap_err(),
            EppSettingsError::BothWays
        );
    }

    #[test]
    fn the_server_is_host_and_port() {
        assert_eq!(
            parse_server("EPP.nic.ch:700").unwrap(),
            ("epp.nic.ch".to_owned(), 700)
        );
        assert_eq!(parse_server("[::1]:700").unwrap(), ("::1".to_owned(), 700));
        for bad in [
            "epp.nic.ch",
            "epp.nic.ch:",
            ":700",
            "epp.nic.ch:0",
            "a b:700",
            "x:99999",
        ] {
            assert_eq!(parse_server(bad), Err(EppSettingsError::Server), "{bad}");
        }
    }

    #[test]
    fn the_password_is_the_first_line_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret-Pass\nnot part of it\n").unwrap();
        let password = read_password(&path).unwrap();
        assert_eq!(password.expose(), "s3cret-Pass");
        assert!(!format!("{password:?}").contains("s3cret"));
        for wrong in ["\n", "five5\n", "seventeen-chars-x\n"] {
            std::fs::write(&path, wrong).unwrap();
            assert_eq!(
                read_password(&path).unwrap_err(),
                EppSettingsError::PasswordLength
            );
        }
    }

    #[test]
    fn files_that_hold_no_certificate_or_key_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.pem");
        std::fs::write(&path, "not pem").unwrap();
        assert_eq!(
            read_certificates(CA_FILE, &path).unwrap_err(),
            EppSettingsError::NoCertificate(CA_FILE)
        );
        assert_eq!(read_key(&path).unwrap_err(), EppSettingsError::NoKey);
        let missing = read_certificates(CLIENT_CERT, &dir.path().join("absent")).unwrap_err();
        assert!(missing.to_string().starts_with(CLIENT_CERT), "{missing}");
    }
}
