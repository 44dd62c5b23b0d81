//! Load figures over loopback, the load generator sharing the machine with the service:
//! - the status API's throughput and latency with 4 keep-alive connections;
//! - the reviewers' queue page with 100,000 requests in the database;
//! - the view of a 2,000 px document (decrypt, decode, watermark, encode).
//!
//! cargo bench --bench load                       (SQLite in a temporary directory)
//! BENCH_DATABASE_URL=postgres://…/empty_db cargo bench --bench load   (PostgreSQL)
//!
//! Uses ../shared/photos/photo_4000x3000_q90.jpg when present (stored at 2,000 px), else a
//! generated photo of the same size.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use entities::enums::{RequestKind, RequestState, RequesterRelation};
use entities::request;
use sea_orm::{EntityTrait, Set};
use transfer_desk::{Services, Settings};

const STATUS_CONNECTIONS: usize = 4;
const STATUS_SECONDS: u64 = 5;
const QUEUE_REQUESTS: usize = 100_000;
const PAGE_ROUNDS: usize = 200;
const VIEW_ROUNDS: usize = 40;
const PASSWORD: &str = "correct horse battery staple";

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::in_dir(dir.path().join("data"));
    settings.submissions_per_hour = 0;
    settings.submissions_per_domain_per_day = 0;
    let database = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => {
            settings.database_url = url;
            "PostgreSQL"
        }
        Err(_) => "SQLite",
    };
    let port = common::server::free_port();
    std::env::set_var("ROCKET_ADDRESS", "127.0.0.1");
    std::env::set_var("ROCKET_PORT", port.to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let services: Services = runtime.block_on(async {
        let rocket = transfer_desk::rocket(settings)
            .await
            .unwrap()
            .ignite()
            .await
            .unwrap();
        let services = rocket.state::<Services>().unwrap().clone();
        tokio::spawn(rocket.launch());
        services
    });
    let address = format!("127.0.0.1:{port}");
    while TcpStream::connect(&address).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("database: {database}; service and load generator share this machine's cores");

    runtime.block_on(async {
        transfer_desk::registry::domains::import_csv(
            &services.db,
            b"domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n"
                .as_slice(),
        )
        .await
        .unwrap();
        transfer_desk::accounts::add_reviewer(&services.db, "bench", PASSWORD, true)
            .await
            .unwrap();
    });
    let mut client = Connection::open(&address);
    let (request_id, token) = submit(&mut client, &photo());

    // The status API.
    let status_path = format!("/api/v1/requests/{request_id}");
    let head = format!(
        "GET {status_path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let (count, mut latencies) = hammer(&address, &head, STATUS_CONNECTIONS, STATUS_SECONDS);
    println!(
        "status API, {STATUS_CONNECTIONS} connections, {STATUS_SECONDS} s: {:.0} req/s, {}",
        count as f64 / STATUS_SECONDS as f64,
        summary(&mut latencies)
    );

    // The document view, signed in.
    let cookie = sign_in(&mut client, &address);
    let document = runtime.block_on(async {
        use sea_orm::{ColumnTrait, QueryFilter};
        entities::document::Entity::find()
            .filter(entities::document::Column::RequestId.eq(request_id))
            .one(&services.db)
            .await
            .unwrap()
            .unwrap()
    });
    let document_id = document.id;
    let view = format!(
        "GET /review/requests/{request_id}/documents/{document_id} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n"
    );
    let mut times = timed(&mut client, &view, VIEW_ROUNDS);
    let view_p50 = {
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    println!("document view (2,000 px): {}", summary(&mut times));
    let (stages, stored) = runtime.block_on(view_stages(&services, &document));
    println!("  of which: {stages}");
    if let Some(turbo) = turbo_tools_on(&stored) {
        println!(
            "  libjpeg-turbo's own tools on the same stored JPEG (whole processes): {turbo}; ours / theirs: {:.2}",
            view_p50 / turbo_pipeline_ms(&stored).unwrap_or(f64::NAN)
        );
    }

    // The queue page with 100,000 requests.
    let started = Instant::now();
    runtime.block_on(seed(&services, QUEUE_REQUESTS));
    println!(
        "seeded {QUEUE_REQUESTS} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let queue = format!("GET /review HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
    let mut times = timed(&mut client, &queue, PAGE_ROUNDS);
    println!(
        "queue page with {QUEUE_REQUESTS} requests: {}",
        summary(&mut times)
    );
    let mut queries = runtime.block_on(queue_queries(&services));
    println!("  of which the queue's queries: {}", summary(&mut queries));
}

/// The database part of the queue page, in process: its rows and its summary line.
async fn queue_queries(services: &Services) -> Vec<f64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    use transfer_desk::workflow::queue;
    let me = entities::reviewer::Entity::find()
        .filter(entities::reviewer::Column::Name.eq("bench"))
        .one(&services.db)
        .await
        .unwrap()
        .unwrap();
    let mut times = Vec::new();
    for _ in 0..PAGE_ROUNDS {
        let started = Instant::now();
        let now = Utc::now();
        queue::queue(&services.db, &queue::QueueFilter::default(), &me, now)
            .await
            .unwrap();
        queue::summary(&services.db, now).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

/// Where a document view's time goes, each stage's median over 20 rounds; and the stored
/// JPEG it opened.
async fn view_stages(
    services: &Services,
    document: &entities::document::Model,
) -> (String, Vec<u8>) {
    let mut stored = Vec::new();
    use transfer_desk::platform::crypto::DocumentBinding;
    let binding = DocumentBinding {
        request_id: document.request_id,
        document_id: document.id,
        key_version: document.key_version as u32,
    };
    let mut stages: Vec<(&str, Vec<f64>)> = [
        "audit record",
        "read",
        "decrypt",
        "decode",
        "stamp",
        "encode",
    ]
    .into_iter()
    .map(|name| (name, Vec::new()))
    .collect();
    for _ in 0..20 {
        let mut clock = Instant::now();
        let mut lap = |stage: usize, stages: &mut Vec<(&str, Vec<f64>)>| {
            stages[stage].1.push(clock.elapsed().as_secs_f64() * 1000.0);
            clock = Instant::now();
        };
        use transfer_desk::evidence::audit::{record, Action, Actor};
        record(
            &services.db,
            Actor::Reviewer("bench"),
            Action::KeyUse,
            None,
            None,
        )
        .await
        .unwrap();
        lap(0, &mut stages);
        let sealed = services.store.get(&document.storage_name).await.unwrap();
        lap(1, &mut stages);
        let key = services
            .master_key
            .unwrap(document.wrapped_key.as_ref().unwrap(), &binding)
            .unwrap();
        let plain = key.open_document(&binding, &sealed).unwrap();
        lap(2, &mut stages);
        stored = plain.to_vec();
        let mut pixels = transfer_desk::intake::jpeg::decode_own_rgb(&plain).unwrap();
        lap(3, &mut stages);
        transfer_desk::intake::watermark::stamp(
            &mut pixels,
            "bench 2026-11-26 10:00 UTC #12345678",
        );
        lap(4, &mut stages);
        let (width, height) = pixels.dimensions();
        transfer_desk::intake::jpeg::encode_rgb(pixels.as_raw(), width, height, 85).unwrap();
        lap(5, &mut stages);
    }
    let stages = stages
        .iter_mut()
        .map(|(name, ms)| {
            ms.sort_by(f64::total_cmp);
            format!("{name} {:.1} ms", ms[ms.len() / 2])
        })
        .collect::<Vec<_>>()
        .join(", ");
    (stages, stored)
}

/// `script` run by `sh` 20 times: the median, in ms.
fn shell_ms(script: &str) -> f64 {
    let mut times: Vec<f64> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let status = std::process::Command::new("sh")
                .args(["-c", script])
                .status()
                .unwrap();
            assert!(status.success(), "{script}");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// djpeg and cjpeg (libjpeg-turbo-progs) doing the view's decode, encode and both on `jpeg`,
/// when installed.
fn turbo_tools_on(jpeg: &[u8]) -> Option<String> {
    let dir = turbo_files(jpeg)?;
    let (input, pixels) = (dir.path().join("in.jpg"), dir.path().join("in.ppm"));
    Some(format!(
        "djpeg {:.1} ms, cjpeg -quality 85 {:.1} ms, djpeg | cjpeg {:.1} ms",
        shell_ms(&format!("djpeg {} > /dev/null", input.display())),
        shell_ms(&format!(
            "cjpeg -quality 85 {} > /dev/null",
            pixels.display()
        )),
        turbo_pipeline_ms(jpeg)?,
    ))
}

fn turbo_pipeline_ms(jpeg: &[u8]) -> Option<f64> {
    let dir = turbo_files(jpeg)?;
    let input = dir.path().join("in.jpg");
    Some(shell_ms(&format!(
        "djpeg {} | cjpeg -quality 85 > /dev/null",
        input.display()
    )))
}

/// A directory with `jpeg` as in.jpg and its pixels as in.ppm; `None` without djpeg.
fn turbo_files(jpeg: &[u8]) -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().ok()?;
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, jpeg).ok()?;
    let decoded = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "djpeg {} > {}",
                input.display(),
                dir.path().join("in.ppm").display()
            ),
        ])
        .status()
        .ok()?;
    decoded.success().then_some(dir)
}

/// The benchmark photo: the real 12 MP one when present.
fn photo() -> Vec<u8> {
    let real =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/photos/photo_4000x3000_q90.jpg");
    std::fs::read(&real).unwrap_or_else(|_| {
        println!("(no ../shared/photos: using a generated 4000×3000 photo)");
        common::jpeg_photo(4000, 3000, None)
    })
}

fn submit(client: &mut Connection, photo: &[u8]) -> (uuid::Uuid, String) {
    let (content_type, body) = common::valid_submission("example.com", photo)
        .text("send_anyway", "yes")
        .finish();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        client.address,
        body.len()
    );
    let (status, _, answer) = client.send(&head, &body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    (
        json["request_id"].as_str().unwrap().parse().unwrap(),
        json["tracking_token"].as_str().unwrap().to_owned(),
    )
}

/// Signs in through the login form; returns the `Cookie` header value.
fn sign_in(client: &mut Connection, address: &str) -> String {
    let (_, headers, page) = client.send(
        &format!("GET /review/login HTTP/1.1\r\nHost: {address}\r\n\r\n"),
        &[],
    );
    let csrf_cookie = set_cookies(&headers).join("; ");
    let page = String::from_utf8_lossy(&page);
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let token = page[start..].split('"').next().unwrap();
    let body = common::form_body(&[
        ("name", "bench"),
        ("password", PASSWORD),
        ("csrf_token", token),
    ]);
    let (status, headers, _) = client.send(
        &format!(
            "POST /review/login HTTP/1.1\r\nHost: {address}\r\nOrigin: http://{address}\r\nCookie: {csrf_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        body.as_bytes(),
    );
    assert_eq!(status, 303);
    set_cookies(&headers).join("; ")
}

fn set_cookies(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .filter_map(|(_, value)| value.split(';').next().map(str::to_owned))
        .collect()
}

/// `rounds` sequential requests on one connection, after one warm-up; ms each.
fn timed(client: &mut Connection, head: &str, rounds: usize) -> Vec<f64> {
    let (status, _, body) = client.send(head, &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let (status, _, _) = client.send(head, &[]);
            assert_eq!(status, 200);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// `connections` keep-alive connections sending `head` for `seconds`: requests done and
/// the latency of each, in ms.
fn hammer(address: &str, head: &str, connections: usize, seconds: u64) -> (usize, Vec<f64>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                scope.spawn(move || {
                    let mut client = Connection::open(address);
                    let mut latencies = Vec::new();
                    while Instant::now() < deadline {
                        let started = Instant::now();
                        let (status, _, _) = client.send(head, &[]);
                        assert_eq!(status, 200);
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    latencies
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let all: Vec<f64> = results.into_iter().flatten().collect();
    (all.len(), all)
}

fn summary(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.99),
        at(1.0),
        ms.len()
    )
}

/// Requests as a year of a busy desk leaves them: nearly all decided, a few hundred waiting.
async fn seed(services: &Services, count: usize) {
    let now = Utc::now();
    let mut batch = Vec::new();
    for n in 0..count {
        let pending = n % 100 == 0;
        let age = if pending {
            chrono::Duration::minutes((n % 20_000) as i64)
        } else {
            chrono::Duration::minutes((n * 5) as i64 % 525_600)
        };
        let state = match (pending, n % 3) {
            (true, _) => RequestState::Submitted,
            (false, 0) => RequestState::Rejected,
            (false, 1) => RequestState::Expired,
            _ => RequestState::Approved,
        };
        let created = now - age;
        batch.push(request::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            domain: Set(format!("domain-{}.example", n % 40_000)),
            requester_name: Set("Bench Requester".into()),
            requester_email: Set("bench@example.org".into()),
            requester_phone: Set(None),
            relation: Set(RequesterRelation::Holder),
            state: Set(state),
            tracking_token_hash: Set(uuid::Uuid::new_v4().as_bytes().repeat(2)),
            client_addr: Set(None),
            consent_at: Set(created),
            created_at: Set(created),
            updated_at: Set(created),
            claimed_by: Set(None),
            claim_expires_at: Set(None),
            requested_document: Set(None),
            requested_note: Set(None),
            decided_at: Set((!pending).then_some(created + chrono::Duration::hours(2))),
            code_recipient_key: Set(None),
            personal_data_erased_at: Set(None),
            company_uid: Set(None),
            kind: Set(RequestKind::TransferCode),
            nameservers: Set(None),
            holder_name: Set(None),
            holder_email: Set(None),
            holder_token_hash: Set(None),
            holder_link_expires_at: Set(None),
            holder_answered_at: Set(None),
            awaiting_reply_since: Set(None),
            language: Set("en".into()),
            objection_token_hash: Set(None),
            objected_at: Set(None),
            objection_handled_at: Set(None),
            holder_link_sent_at: Set(None),
            hand_off_due_at: Set(None),
            nameservers_set_at: Set(None),
            previous_nameservers: Set(None),
            requester_messages: Set(0),
            welcomed_at: Set(Some(created)),
            id_document_type: Set(None),
            holder_id_document_type: Set(None),
            registry_refusal: Set(None),
            registry_refused_at: Set(None),
        });
        if batch.len() == 500 || n + 1 == count {
            request::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&services.db)
                .await
                .unwrap();
        }
    }
}

/// One HTTP/1.1 keep-alive connection.
struct Connection {
    address: String,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(address: &str) -> Self {
        let stream = TcpStream::connect(address).unwrap();
        stream.set_nodelay(true).unwrap();
        Connection {
            address: address.to_owned(),
            reader: BufReader::new(stream),
        }
    }

    /// Sends a request; returns the status, the headers (names in lower case) and the body.
    fn send(&mut self, head: &str, body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let text = line.trim_end();
            if text.is_empty() {
                break;
            }
            if let Some((name, value)) = text.split_once(':') {
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map_or(0, |(_, value)| value.parse().unwrap());
        let mut answer = vec![0; length];
        self.reader.read_exact(&mut answer).unwrap();
        (status, headers, answer)
    }
}
