//! A fake EPP registry: RFC 5734 framing (a four-byte length that counts itself, then the
//! XML) over TLS that requires a client certificate from its client CA. It records every
//! frame it receives, keeps one domain's nameservers and authorization code, and answers
//! with result codes a test scripts.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use regex::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{crypto::ring, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::pki::{Authority, Leaf};

/// What a scripted answer does.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This result code (and message) instead of success.
    Code(u16, &'static str),
    /// Carries the update out, then closes the connection without answering.
    DropAfterApplying,
    /// 1001 (RFC 5730 §3): accepted, to be carried out later; the state does not change yet.
    Pending,
}

/// The registry's state and what it saw.
#[derive(Default)]
pub struct Registry {
    /// Every frame received, in order (each the XML of one command).
    pub received: Vec<String>,
    /// TLS handshakes that failed (a client certificate refused, …).
    pub handshakes_refused: usize,
    pub nameservers: Vec<String>,
    /// The domain's authorization code; `None` once unset with `<domain:null/>`.
    pub auth_info: Option<String>,
    /// Scripted answers to the next commands of a kind ("login", "info", "update"…).
    script: Vec<(&'static str, VecDeque<Answer>)>,
    /// Refuse `<domain:null/>` as an unimplemented option (2102).
    pub refuses_null: bool,
    served: u32,
}

impl Registry {
    /// The commands received, by kind ("login", "info", "update", "logout").
    pub fn kinds(&self) -> Vec<&'static str> {
        self.received.iter().map(|xml| kind(xml)).collect()
    }

    pub fn of_kind(&self, wanted: &str) -> Vec<String> {
        self.received
            .iter()
            .filter(|xml| kind(xml) == wanted)
            .cloned()
            .collect()
    }
}

pub struct FakeRegistry {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<Registry>>,
}

impl FakeRegistry {
    /// Serves as `localhost` with `server` (signed by some CA), accepting client certificates
    /// from `client_ca` only.
    pub async fn start(server: &Leaf, client_ca: &Authority, nameservers: &[&str]) -> Self {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(client_ca.der.clone()))
            .unwrap();
        let provider = Arc::new(ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .unwrap();
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(server.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        // Where the client will connect: the first address `localhost` resolves to.
        let local = tokio::net::lookup_host(("localhost", 0))
            .await
            .unwrap()
            .next()
            .unwrap();
        let listener = TcpListener::bind(local).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(Registry {
            nameservers: nameservers.iter().map(|n| (*n).to_owned()).collect(),
            auth_info: Some("old-code".to_owned()),
            ..Registry::default()
        }));
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(tls) => serve(tls, state).await,
                        Err(_) => state.lock().unwrap().handshakes_refused += 1,
                    }
                });
            }
        });
        Self { addr, state }
    }

    /// The next `count` commands of `kind` get `answer`.
    pub fn script(&self, kind: &'static str, answers: &[Answer]) {
        let mut state = self.state.lock().unwrap();
        state.script.push((kind, answers.iter().cloned().collect()));
    }

    pub fn with<T>(&self, read: impl FnOnce(&Registry) -> T) -> T {
        read(&self.state.lock().unwrap())
    }
}

/// The command a frame holds.
pub fn kind(xml: &str) -> &'static str {
    for (tag, kind) in [
        ("<login>", "login"),
        ("<logout", "logout"),
        ("<info>", "info"),
        ("<update>", "update"),
    ] {
        if xml.contains(tag) {
            return kind;
        }
    }
    "other"
}

fn capture(pattern: &str, xml: &str) -> Vec<String> {
    Regex::new(pattern)
        .unwrap()
        .captures_iter(xml)
        .map(|c| c[1].to_owned())
        .collect()
}

async fn write_frame(tls: &mut (impl AsyncWriteExt + Unpin), xml: &str) -> std::io::Result<()> {
    let length = u32::try_from(xml.len() + 4).unwrap();
    tls.write_all(&length.to_be_bytes()).await?;
    tls.write_all(xml.as_bytes()).await?;
    tls.flush().await
}

async fn read_frame(tls: &mut (impl AsyncReadExt + Unpin)) -> Option<String> {
    let mut length = [0u8; 4];
    tls.read_exact(&mut length).await.ok()?;
    let length = usize::try_from(u32::from_be_bytes(length)).ok()?;
    let mut body = vec![0u8; length.checked_sub(4)?];
    tls.read_exact(&mut body).await.ok()?;
    String::from_utf8(body).ok()
}

const GREETING: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><greeting><svID>Fake Registry</svID><svDate>2026-12-07T10:00:00.0Z</svDate><svcMenu><version>1.0</version><lang>en</lang><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcMenu><dcp><access><all/></access><statement><purpose><admin/><prov/></purpose><recipient><ours/></recipient><retention><stated/></retention></statement></dcp></greeting></epp>"#;

async fn serve<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut tls: S, state: Arc<Mutex<Registry>>) {
    if write_frame(&mut tls, GREETING).await.is_err() {
        // The client refused us (e.g. our certificate) after the handshake.
        state.lock().unwrap().handshakes_refused += 1;
        return;
    }
    while let Some(xml) = read_frame(&mut tls).await {
        let answer = answer(&state, xml);
        match answer {
            Some(reply) => {
                if write_frame(&mut tls, &reply).await.is_err() {
                    return;
                }
            }
            None => return,
        }
    }
}

/// Records `xml` and works out the reply; `None` to drop the connection.
fn answer(state: &Mutex<Registry>, xml: String) -> Option<String> {
    let mut state = state.lock().unwrap();
    state.served += 1;
    let cl_trid = capture("<clTRID>([^<]*)</clTRID>", &xml)
        .pop()
        .unwrap_or_default();
    let kind = kind(&xml);
    state.received.push(xml.clone());
    let scripted = state
        .script
        .iter_mut()
        .find(|(k, answers)| *k == kind && !answers.is_empty())
        .and_then(|(_, answers)| answers.pop_front());
    let sv_trid = format!("FAKE-{}", state.served);
    let reply = |code: u16, message: &str, data: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="{code}"><msg>{message}</msg></result>{data}<trID><clTRID>{cl_trid}</clTRID><svTRID>{sv_trid}</svTRID></trID></response></epp>"#
        )
    };
    match scripted {
        Some(Answer::Code(code, message)) => return Some(reply(code, message, "")),
        Some(Answer::DropAfterApplying) => {
            apply(&mut state, &xml);
            return None;
        }
        Some(Answer::Pending) => {
            return Some(reply(
                1001,
                "Command completed successfully; action pending",
                "",
            ))
        }
        None => {}
    }
    match kind {
        "info" => {
            let hosts: String = state
                .nameservers
                .iter()
                .map(|h| format!("<domain:hostObj>{h}</domain:hostObj>"))
                .collect();
            let name = capture("<name[^>]*>([^<]*)</name>", &xml)
                .pop()
                .unwrap_or_default();
            let data = format!(
                r#"<resData><domain:infData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:roid>EXAMPLE1-REP</domain:roid><domain:status s="ok"/><domain:ns>{hosts}</domain:ns><domain:clID>desk</domain:clID></domain:infData></resData>"#
            );
            Some(reply(1000, "Command completed successfully", &data))
        }
        "update" if xml.contains("<null") && state.refuses_null => {
            Some(reply(2102, "Unimplemented option", ""))
        }
        "update" => {
            apply(&mut state, &xml);
            Some(reply(1000, "Command completed successfully", ""))
        }
        "logout" => Some(reply(
            1500,
            "Command completed successfully; ending session",
            "",
        )),
        _ => Some(reply(1000, "Command completed successfully", "")),
    }
}

/// Carries out a `domain:update`: nameservers added and removed, the code set or unset.
fn apply(state: &mut Registry, xml: &str) {
    let section = |tag: &str| {
        capture(&format!("(?s)<{tag}>(.*?)</{tag}>"), xml)
            .pop()
            .unwrap_or_default()
    };
    for host in capture("<hostObj>([^<]*)</hostObj>", &section("rem")) {
        state.nameservers.retain(|h| *h != host);
    }
    for host in capture("<hostObj>([^<]*)</hostObj>", &section("add")) {
        state.nameservers.push(host);
    }
    let change = section("chg");
    if change.contains("<null") {
        state.auth_info = None;
    } else if let Some(code) = capture("<pw>([^<]*)</pw>", &change).pop() {
        state.auth_info = Some(code);
    }
}
