//! A minimal HTTP/1.1 client (what the wallet app does on the network) and a loopback server of
//! status list tokens, both over plain TCP so that nothing of the service's own HTTP stack is
//! reused by the oracle.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a server answered.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// GET `url` (`http://host:port/path`).
pub async fn get(url: &str) -> HttpReply {
    send(url, "GET", None).await
}

/// POST `body` as `application/x-www-form-urlencoded` to `url`.
pub async fn post_form(url: &str, body: String) -> HttpReply {
    send(url, "POST", Some(body)).await
}

async fn send(url: &str, method: &'static str, body: Option<String>) -> HttpReply {
    let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(
        url.scheme(),
        "http",
        "the test wallet speaks plain HTTP to loopback servers"
    );
    tokio::task::spawn_blocking(move || exchange(&url, method, body.as_deref()))
        .await
        .expect("the HTTP exchange does not panic")
}

fn exchange(url: &url::Url, method: &str, body: Option<&str>) -> HttpReply {
    let host = url.host_str().expect("a host");
    let port = url.port_or_known_default().expect("a port");
    let mut stream = TcpStream::connect((host, port)).expect("the server listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
    if let Some(body) = body {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        request.push_str("\r\n");
    }
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    read_reply(BufReader::new(stream))
}

fn read_reply(mut reader: BufReader<TcpStream>) -> HttpReply {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line, not {line:?}"));
    let (mut content_type, mut length, mut chunked) = (String::new(), None, false);
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a header line");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.trim().to_owned(),
            "content-length" => length = value.trim().parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(&mut reader)
    } else if let Some(length) = length {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the whole body");
        body
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).expect("the body");
        body
    };
    HttpReply {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).expect("a chunk size");
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .expect("a hexadecimal chunk size");
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).expect("a chunk");
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A loopback HTTP server of status list tokens, so that the real service fetches them over the
/// network: `http://127.0.0.1:<port>/statuslists/<name>`, content type
/// `application/statuslist+jwt`. It serves what [`StatusServer::publish`] put there and 404
/// otherwise, counts the fetches, and stops when dropped.
pub struct StatusServer {
    base: String,
    tokens: Arc<Mutex<HashMap<String, String>>>,
    fetches: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl StatusServer {
    /// Listens on a free loopback port, serving from a thread of its own.
    pub fn start() -> Self {
        Self::serve(None)
    }

    /// As [`StatusServer::start`], over TLS with `tls` (e.g. [`super::tls::TestCa::server`]):
    /// `https://127.0.0.1:<port>/statuslists`, as an issuer serves its lists.
    pub fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        Self::serve(Some(tls))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let address = listener.local_addr().unwrap();
        let base = format!("{scheme}://{address}/statuslists");
        let tokens: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let (fetches, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (served, counted, stopping) =
            (Arc::clone(&tokens), Arc::clone(&fetches), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                match &tls {
                    None => serve_one(&mut stream, &served, &counted),
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(Arc::clone(config))
                        else {
                            continue;
                        };
                        let mut tls = rustls::StreamOwned::new(connection, stream);
                        serve_one(&mut tls, &served, &counted);
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                }
            }
        });
        Self {
            base,
            tokens,
            fetches,
            stop,
        }
    }

    /// `http://127.0.0.1:<port>/statuslists`: give it to [`super::Wallet::new`] as the
    /// status base, then publish the wallet's tokens.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Serves each `(uri, token)` at its URI (which must start with [`StatusServer::base`]).
    pub fn publish(&self, tokens: impl IntoIterator<Item = (String, String)>) {
        let mut served = self.tokens.lock().unwrap();
        for (uri, token) in tokens {
            let path = uri
                .strip_prefix(&self.base)
                .unwrap_or_else(|| panic!("{uri} is not under {}", self.base));
            served.insert(format!("/statuslists{path}"), token);
        }
    }

    /// How many requests the server has answered.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let address = self
            .base
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        let _ = TcpStream::connect(address);
    }
}

/// Answers one request on `stream` (plain TCP, or TLS over it; the TCP stream's read
/// timeout is set when accepted).
fn serve_one<S: Read + Write>(
    stream: &mut S,
    tokens: &Mutex<HashMap<String, String>>,
    fetches: &AtomicUsize,
) {
    let mut reader = BufReader::new(&mut *stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    fetches.fetch_add(1, Ordering::SeqCst);
    let token = tokens.lock().unwrap().get(&path).cloned();
    let reply = match token {
        Some(token) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/statuslist+jwt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{token}",
            token.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(reply.as_bytes());
}
