//! The binary alone is the service: copied to an empty directory and run from another one,
//! it serves the form, takes a submission and shows the review pages; a host's own templates
//! replace the built-in ones.

use crate::common;

use crate::common::server::Server;
use crate::common::*;

const PORTFOLIO: &str =
    "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n";

fn get(server: &Server, path: &str) -> (u16, String) {
    let (status, body) = server.raw_http(
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        Vec::new(),
    );
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_copied_binary_serves_the_form_a_submission_and_the_review_pages_from_anywhere() {
    let server = Server::start_copied(&[]).await;
    server.import_domains(PORTFOLIO);
    server.add_reviewer("alice", "correct horse battery staple", true);
    let (status, form) = get(&server, "/");
    assert_eq!(status, 200);
    assert!(form.contains("Send my request"), "{form}");
    for asset in [
        "/static/style.css",
        "/static/form.js",
        "/static/review.js",
        "/favicon.ico",
    ] {
        assert_eq!(get(&server, asset).0, 200, "{asset}");
    }
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let (status, login) = get(&server, "/review/login");
    assert_eq!(status, 200);
    assert!(login.contains("Sign in"));
    let (_, german) = get(&server, "/status?lang=de");
    assert!(german.contains("Dienststatus"), "translations are built in");
}

#[tokio::test]
async fn a_hosts_own_templates_replace_the_built_in_ones() {
    let own = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/base.html.tera"
    ))
    .unwrap()
    .replace(">Transfer Desk</a>", ">Example Hosting</a>");
    std::fs::write(own.path().join("base.html.tera"), base).unwrap();
    let dir = own.path().display().to_string();
    let server = Server::start_copied(&[("TRANSFER_DESK_TEMPLATES_DIR", &dir)]).await;
    let (status, form) = get(&server, "/");
    assert_eq!(status, 200);
    assert!(form.contains(">Example Hosting</a>"), "{form}");
    assert!(
        form.contains("Send my request"),
        "the other templates stay built in"
    );
}

/// Every Rust file of the service's own source (`src/`).
fn service_sources() -> Vec<std::path::PathBuf> {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    assert!(files.len() > 50, "the sources were not found");
    files
}

/// An upload never reaches C code: `src/intake/jpeg.rs` is the only module that calls
/// libjpeg-turbo, and its decoder takes only an `OpenedDocument`, which only AES-GCM's
/// opening of a stored document makes.
#[test]
fn only_the_jpeg_module_calls_libjpeg_turbo() {
    let callers: Vec<_> = service_sources()
        .into_iter()
        .filter(|path| !path.ends_with("src/intake/jpeg.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.contains("mozjpeg") || text.contains("jpeg_sys")
        })
        .collect();
    assert!(callers.is_empty(), "{callers:?}");
}

/// The copied binary above still finds the source tree on this machine; this makes sure
/// nothing outside tests reaches for it at run time.
#[test]
fn nothing_at_run_time_reads_the_source_tree() {
    for file in service_sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let run_time = text.split("#[cfg(test)]").next().unwrap();
        for line in run_time.lines() {
            assert!(
                !line.contains("CARGO_MANIFEST_DIR") || line.contains("include_dir!"),
                "{}: {line}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn sigterm_lets_a_submission_in_progress_finish_and_exits_cleanly() {
    use std::io::{Read, Write};
    // A shorter grace than the default 30 s keeps the test quick: Rocket waits out the grace
    // once a request was in flight.
    let mut server = Server::start(&[("ROCKET_SHUTDOWN", "{grace=4,mercy=2}")]).await;
    server.import_domains(PORTFOLIO);
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(std::time::Duration::from_millis(500));
    stream.write_all(&body[half..]).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    drop(stream);
    let status = server.wait_for_exit(std::time::Duration::from_secs(40));
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_metrics_address_already_taken_stops_the_start_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (status, log) =
        Server::refuses_to_start(&[("TRANSFER_DESK_METRICS_ADDRESS", &address)]).await;
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "cannot listen on TRANSFER_DESK_METRICS_ADDRESS {address}"
        )),
        "{log}"
    );
    assert!(!log.contains("metrics at"), "{log}");
    assert!(!log.contains("is listening"), "{log}");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_without_personal_data() {
    let port = common::server::free_port();
    let address = format!("127.0.0.1:{port}");
    let server = Server::start(&[("TRANSFER_DESK_METRICS_ADDRESS", &address)]).await;
    // Said once the address is bound, and only then (the release profile once refused to
    // start the metrics server while the log still announced it).
    let announced = format!("metrics at http://{address}/metrics");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !server.log().contains(&announced) {
        assert!(
            std::time::Instant::now() < deadline,
            "metrics not announced:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server.import_domains(PORTFOLIO);
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    assert_eq!(status, 201);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let token_at = answer.find("\"tracking_token\":\"").unwrap() + 18;
    let token = &answer[token_at..token_at + 43];
    let login = b"name=mallory&password=wrong-password-123&csrf_token=x".to_vec();
    server.raw_http(
        &format!("POST /review/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", login.len()),
        login,
    );
    assert_eq!(
        get(&server, "/metrics").0,
        404,
        "never on the public address"
    );
    let scrape = || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    };
    let text = scrape();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("transfer_desk_requests{state=\"submitted\"} 1"),
        "{text}"
    );
    assert!(text.contains("transfer_desk_submissions_total 1"), "{text}");
    assert!(
        text.contains("transfer_desk_intake_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("transfer_desk_queue_length 1"), "{text}");
    assert!(text.contains("transfer_desk_documents_stored 1"), "{text}");
    assert!(text.contains("transfer_desk_outbox_backlog 0"), "{text}");
    for secret in [
        token,
        "anna@example.org",
        "Anna Muster",
        "example.com",
        "mallory",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
}

#[tokio::test]
async fn a_backup_holds_the_database_and_documents_but_never_the_key_and_restores() {
    let server = Server::start(&[]).await;
    server.import_domains(PORTFOLIO);
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    assert_eq!(status, 201);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let field = |name: &str| {
        let start = answer.find(&format!("\"{name}\":\"")).unwrap() + name.len() + 4;
        answer[start..start + answer[start..].find('"').unwrap()].to_owned()
    };
    let (id, token) = (field("request_id"), field("tracking_token"));
    let root = server.data_dir().parent().unwrap().to_owned();
    let backup = root.join("backup");
    let said = server.run(&["backup", &backup.display().to_string()], "");
    let copied: Vec<_> = std::fs::read_dir(backup.join("uploads")).unwrap().collect();
    assert_eq!(copied.len(), 1, "the encrypted document");
    let key = std::fs::read(server.data_dir().join("master.key")).unwrap();
    for entry in walk(&backup) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes
                .windows(key.len().min(32))
                .any(|w| w == &key[..key.len().min(32)]),
            "{} holds the master key",
            entry.display()
        );
    }
    if common::fresh_postgres_database().await.is_some() {
        assert!(said.contains("pg_dump"), "{said}");
        return;
    }
    assert!(
        said.contains("the master key is not in the backup"),
        "{said}"
    );
    // Restore: the snapshot and the documents into a new data directory, with the key kept
    // apart.
    let restored = tempfile::tempdir().unwrap();
    let data = restored.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        backup.join("transfer-desk.sqlite3"),
        data.join("transfer-desk.sqlite3"),
    )
    .unwrap();
    std::fs::copy(
        server.data_dir().join("master.key"),
        data.join("master.key"),
    )
    .unwrap();
    let data = data.display().to_string();
    let uploads = backup.join("uploads").display().to_string();
    let again = Server::start(&[
        ("TRANSFER_DESK_DATA_DIR", &data),
        ("TRANSFER_DESK_UPLOADS_DIR", &uploads),
    ])
    .await;
    let (status, body) = again.raw_http(
        &format!("GET /api/v1/requests/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
        Vec::new(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"submitted\""));
    let sweep = again.run(&["sweep"], "");
    assert!(
        sweep.contains("removed 0 orphaned file(s)"),
        "the restored document is known: {sweep}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn json_logs_carry_the_request_id_the_response_names_and_no_token() {
    use std::io::{Read, Write};
    let server = Server::start(&[("TRANSFER_DESK_LOG_FORMAT", "json")]).await;
    server.import_domains(PORTFOLIO);
    let token = "A".repeat(43);
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /track/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let id = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an X-Request-Id header")
        .trim()
        .to_owned();
    assert_eq!(id.len(), 32);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        let log = server.log();
        if let Some(line) = log.lines().find(|l| l.contains(&id)) {
            break line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["request_id"], id.as_str());
    assert!(event["route"]
        .as_str()
        .unwrap()
        .starts_with("/track/<token>"));
    assert_eq!(event["status"], 404);

    // What the workflow writes while it serves a request carries the same id.
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let (status, answer) = server.raw_http(
        &format!(
            "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        body,
    );
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 201, "{answer}");
    let id = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an X-Request-Id header")
        .trim()
        .to_owned();
    let line = loop {
        let log = server.log();
        if let Some(line) = log.lines().find(|l| l.contains("request submitted")) {
            break line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["span"]["request_id"], id.as_str(), "{line}");

    let log = server.log();
    assert!(!log.contains(&token), "the token is never logged");
    for line in log.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is JSON");
    }
}

#[tokio::test]
async fn keys_are_rotated_listed_and_retired_from_the_command_line() {
    let server = Server::start(&[]).await;
    server.import_domains(PORTFOLIO);
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    assert_eq!(server.raw_http(&head, body).0, 201);
    let rotated = server.run(&["keys", "rotate", "--batch", "1"], "");
    assert!(rotated.contains("version 2 is now current"), "{rotated}");
    assert!(
        rotated.contains("re-wrapped 1 document key(s); 0 left"),
        "{rotated}"
    );
    let listed = server.run(&["keys", "list"], "");
    assert!(listed.contains("version 1: 0 document key(s)"), "{listed}");
    assert!(
        listed.contains("version 2 (current): 1 document key(s)"),
        "{listed}"
    );
    let retired = server.run(&["keys", "retire", "1"], "");
    assert!(retired.contains("version 1 retired"), "{retired}");
    let file = server.data_dir().join("master-key.v2");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
