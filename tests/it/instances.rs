//! Several instances of the real binary behind one load balancer: one database (PostgreSQL
//! in CI, a shared SQLite file otherwise), one document store, one master key, no sticky
//! sessions. A request submitted on one is decided on the other; the same approval sent to
//! both at once makes one transition and one registry hand-off; the sweeper run on both
//! expires and shreds each request once.

use crate::common::server::{Server, WebClient};
use crate::common::*;
use chrono::{Duration, Utc};
use entities::{audit_event, decision, deletion, document, document_blob, request};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use transfer_desk::platform::crypto::MasterKey;

const PORTFOLIO: &str = "domain,registrant_name,registrant_email\n\
                         example.com,Anna Muster,anna@example.com\n\
                         example.org,Anna Muster,anna@example.com\n\
                         example.net,Anna Muster,anna@example.com\n";
const PASSWORD: &str = "correct horse battery staple";

/// What two instances share: the database, the document store, the master key and the
/// registry command (which appends what it receives to `registry`).
struct Shared {
    dir: tempfile::TempDir,
    database_url: String,
    master_key: String,
    /// `TRANSFER_DESK_DOCUMENT_STORE`, or a shared directory when `None`.
    store: Option<&'static str>,
}

impl Shared {
    async fn new(store: Option<&'static str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match fresh_postgres_database().await {
            Some(url) => url,
            None => format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()),
        };
        Shared {
            database_url,
            master_key: MasterKey::generate(1).unwrap().to_base64().to_string(),
            dir,
            store,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Starts one more instance; each has its own data directory and port.
    async fn instance(&self) -> Server {
        let store = match self.store {
            Some(store) => store.to_owned(),
            None => format!("fs:{}", self.path("uploads")),
        };
        let registry = format!("cat >> '{}'", self.path("registry"));
        Server::start(&[
            ("DATABASE_URL", &self.database_url),
            ("TRANSFER_DESK_DOCUMENT_STORE", &store),
            ("TRANSFER_DESK_MASTER_KEY", &self.master_key),
            ("TRANSFER_DESK_REGISTRY_COMMAND", &registry),
            ("TRANSFER_DESK_APPROVALS_REQUIRED", "1"),
            ("TRANSFER_DESK_SUBMISSIONS_PER_HOUR", "0"),
            ("TRANSFER_DESK_SUBMISSIONS_PER_DOMAIN_PER_DAY", "0"),
        ])
        .await
    }

    fn registry_hand_offs(&self) -> usize {
        std::fs::read_to_string(self.path("registry"))
            .unwrap_or_default()
            .matches("action set_transfer_code")
            .count()
    }

    /// Sealed documents in the shared store.
    async fn stored(&self, db: &sea_orm::DatabaseConnection) -> u64 {
        match self.store {
            Some("db") => document_blob::Entity::find().count(db).await.unwrap(),
            _ => self.sealed_files() as u64,
        }
    }

    fn sealed_files(&self) -> usize {
        std::fs::read_dir(self.path("uploads"))
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".sealed"))
                    .count()
            })
            .unwrap_or(0)
    }
}

fn submit_by_api(server: &Server, domain: &str) -> (uuid::Uuid, String) {
    let (content_type, body) = valid_submission(domain, &camera_photo()).finish();
    let host = server.base.trim_start_matches("http://");
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, answer) = server.raw_http(&head, body);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 201, "{answer}");
    let json: serde_json::Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    (
        json["request_id"].as_str().unwrap().parse().unwrap(),
        json["tracking_token"].as_str().unwrap().to_owned(),
    )
}

fn state_by_api(server: &Server, id: uuid::Uuid, token: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    let (status, answer) = server.raw_http(
        &format!(
            "GET /api/v1/requests/{id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
        Vec::new(),
    );
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 200, "{answer}");
    let json: serde_json::Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    json["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_request_submitted_on_one_instance_is_decided_once_on_both() {
    let shared = Shared::new(None).await;
    let one = shared.instance().await;
    let two = shared.instance().await;
    one.import_domains(PORTFOLIO);
    two.add_reviewer("alice", PASSWORD, false);

    let (id, token) = submit_by_api(&one, "example.com");
    assert_eq!(state_by_api(&two, id, &token), "submitted");

    // Signed in on one instance, the reviewer's session works on the other.
    let mut alice = WebClient::default();
    alice.sign_in(&one, "alice", PASSWORD);
    let (status, queue) = alice.get(&two, "/review");
    assert_eq!(status, 200, "{queue}");
    assert!(queue.contains("example.com"), "{queue}");
    let (_, page) = alice.get(&two, &format!("/review/requests/{id}"));
    let csrf = WebClient::form_token(&page);
    let (status, answer) = alice.post_form(
        &one,
        &format!("/review/requests/{id}/claim"),
        &[("csrf_token", &csrf)],
    );
    assert_eq!(status, 303, "{answer}");

    // The same approval reaches both instances at once (a double click through the load
    // balancer): one transition, one registry hand-off, one decision.
    let approve = format!("/review/requests/{id}/approve");
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = [&one, &two]
            .into_iter()
            .map(|server| {
                let mut client = alice.clone();
                let (approve, csrf) = (&approve, &csrf);
                scope.spawn(move || client.post_form(server, approve, &[("csrf_token", csrf)]).0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // The loser is told the request is already decided, or sees it decided when it looks.
    assert!(answers.contains(&303), "{answers:?}");
    assert!(
        answers.iter().all(|a| [303, 409].contains(a)),
        "{answers:?}"
    );
    assert_eq!(shared.registry_hand_offs(), 1);
    assert_eq!(state_by_api(&one, id, &token), "approved");
    assert_eq!(state_by_api(&two, id, &token), "approved");
    let db = Database::connect(&shared.database_url).await.unwrap();
    assert_eq!(decision::Entity::find().count(&db).await.unwrap(), 1);
    assert_eq!(shared.sealed_files(), 0, "the documents were shredded");

    // The requester reads the code on whichever instance answers.
    let (status, tracking) = WebClient::default().get(&two, &format!("/track/{token}"));
    assert_eq!(status, 200);
    assert!(tracking.contains("new provider"), "{tracking}");
}

#[tokio::test]
async fn the_sweeper_on_both_instances_expires_and_shreds_each_request_once() {
    // Documents in the database: the instances share no directory at all.
    let shared = Shared::new(Some("db")).await;
    let one = shared.instance().await;
    let two = shared.instance().await;
    one.import_domains(PORTFOLIO);
    let mut ids = Vec::new();
    for (server, domain) in [
        (&one, "example.com"),
        (&two, "example.org"),
        (&one, "example.net"),
    ] {
        ids.push(submit_by_api(server, domain).0);
    }
    let db = Database::connect(&shared.database_url).await.unwrap();
    assert_eq!(shared.stored(&db).await, 3);
    assert_eq!(shared.sealed_files(), 0);
    request::Entity::update_many()
        .col_expr(
            request::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(90)),
        )
        .filter(request::Column::Id.is_in(ids.clone()))
        .exec(&db)
        .await
        .unwrap();

    let outputs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = [&one, &two]
            .into_iter()
            .map(|server| scope.spawn(move || server.run(&["sweep"], "")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let expired: usize = outputs
        .iter()
        .map(|output| {
            regex::Regex::new(r"expired (\d+) request")
                .unwrap()
                .captures(output)
                .map_or(0, |c| c[1].parse::<usize>().unwrap())
        })
        .sum();
    assert_eq!(expired, 3, "{outputs:?}");
    let count_audit = |action: &'static str| {
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .count(&db)
    };
    assert_eq!(count_audit("expired").await.unwrap(), 3);
    assert_eq!(count_audit("shred").await.unwrap(), 3);
    assert_eq!(decision::Entity::find().count(&db).await.unwrap(), 3);
    assert_eq!(deletion::Entity::find().count(&db).await.unwrap(), 0);
    let live = document::Entity::find()
        .filter(document::Column::WrappedKey.is_not_null())
        .count(&db)
        .await
        .unwrap();
    assert_eq!(live, 0);
    assert_eq!(shared.stored(&db).await, 0);
}

/// On PostgreSQL the sweeper takes an advisory lock: while another instance holds it, a
/// pass does nothing and says so. (SQLite has no such lock; its stages are guarded alone.)
#[rocket::async_test]
async fn a_sweep_leaves_the_work_to_an_instance_already_sweeping() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
    let app = TestApp::start().await;
    let db = app.db();
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let other = db.begin().await.unwrap();
    if postgres {
        other
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [transfer_desk::workflow::sweep::SWEEP_LOCK_KEY.into()],
            ))
            .await
            .unwrap();
    }
    let report = transfer_desk::workflow::sweep::sweep(app.services(), Utc::now()).await;
    assert_eq!(report.left_to_another_instance, postgres);
    other.rollback().await.unwrap();
    // The service's own sweeper may be in its start-up pass at this moment, holding the lock
    // for a few milliseconds: the lock that was let go is taken within a few tries.
    let mut report = transfer_desk::workflow::sweep::sweep(app.services(), Utc::now()).await;
    for _ in 0..50 {
        if !report.left_to_another_instance {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        report = transfer_desk::workflow::sweep::sweep(app.services(), Utc::now()).await;
    }
    assert!(!report.left_to_another_instance);
    assert!(report.failed.is_empty(), "{report:?}");
}

/// Both instances record events and sequence them into the audit log at the same time: the
/// log keeps one order, every event one place, and it verifies on either.
#[tokio::test]
async fn two_instances_appending_at_once_keep_one_audit_log() {
    let shared = Shared::new(None).await;
    let one = shared.instance().await;
    let two = shared.instance().await;
    std::thread::scope(|scope| {
        for (server, prefix) in [(&one, "one"), (&two, "two")] {
            scope.spawn(move || {
                for n in 0..4 {
                    server.add_reviewer(&format!("{prefix}-{n}"), PASSWORD, false);
                    let (code, said) = server.run_for_status(&["audit", "verify"]);
                    assert_eq!(code, Some(0), "{said}");
                }
            });
        }
    });
    one.run(&["sweep"], "");
    let (code, said) = two.run_for_status(&["audit", "verify"]);
    assert_eq!(code, Some(0), "{said}");
    let db = Database::connect(&shared.database_url).await.unwrap();
    let mut places: Vec<i64> = audit_event::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.leaf_index.expect("every event has its place"))
        .collect();
    places.sort_unstable();
    assert_eq!(places, (0..places.len() as i64).collect::<Vec<_>>());
    assert!(places.len() >= 8);
}
