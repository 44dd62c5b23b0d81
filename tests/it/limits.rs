//! Oversized input against the real binary over real HTTP: a huge text field is refused
//! after a few bytes, with a short answer, and the server's memory stays flat.

use crate::common;

use crate::common::server::Server;
use crate::common::{camera_photo, Multipart, BOUNDARY};

#[tokio::test]
async fn a_20_mb_text_field_gets_a_short_refusal_and_costs_no_memory() {
    let server = Server::start(&[]).await;
    server.import_domains(
        "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n",
    );
    let huge = "/".repeat(20 * 1024 * 1024);
    let (_, body) = Multipart::new()
        .text("domain", "example.com")
        .text("full_name", &huge)
        .text("email", "anna@example.org")
        .text("relation", "holder")
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", &camera_photo())
        .finish();
    // Warm up (first requests allocate pools), then measure.
    let (status, _) = server.raw_http(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Vec::new(),
    );
    assert_eq!(status, 200);
    let before = server.peak_memory_kib();
    for path in ["/api/v1/requests", "/requests"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, answer) = server.raw_http(&head, body.clone());
        assert_eq!(status, 413, "{path}");
        assert!(
            answer.len() < 16 * 1024,
            "{path}: a short answer, not an echo: {} bytes",
            answer.len()
        );
    }
    let grown = server.peak_memory_kib().saturating_sub(before);
    assert!(grown < 8 * 1024, "peak memory grew by {grown} KiB");

    // The same on the sign-in form: refused before anything is hashed or stored.
    let login_body = format!("name={huge}&password=x&csrf_token=x").into_bytes();
    let head = format!(
        "POST /review/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        login_body.len()
    );
    let (status, answer) = server.raw_http(&head, login_body);
    assert_eq!(status, 413, "sign-in");
    assert!(answer.len() < 16 * 1024);
}

#[tokio::test]
async fn a_png_declaring_400_mb_of_pixels_costs_the_server_no_memory() {
    let server = Server::start(&[]).await;
    server.import_domains(
        "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n",
    );
    let (status, _) = server.raw_http(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Vec::new(),
    );
    assert_eq!(status, 200);
    let before = server.peak_memory_kib();
    let png = common::png_with_header(10_000, 5_000, 16, 6);
    let (_, body) = common::valid_submission("example.com", &png).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, _) = server.raw_http(&head, body);
    assert_eq!(status, 422);
    let grown = server.peak_memory_kib().saturating_sub(before);
    assert!(grown < 16 * 1024, "peak memory grew by {grown} KiB");
}

#[tokio::test]
async fn an_http_1_0_client_without_host_gets_a_whole_tracking_link() {
    let server = Server::start(&[]).await;
    server.import_domains(
        "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n",
    );
    let (_, body) = common::valid_submission("example.com", &camera_photo()).finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.0\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 201, "{answer}");
    let port = server.base.rsplit(':').next().unwrap();
    assert!(
        answer.contains(&format!(
            "\"tracking_url\":\"http://127.0.0.1:{port}/track/"
        )),
        "{answer}"
    );
}
