//! Shared test helpers: an app on a fresh database, generated photos, multipart bodies.
#![allow(dead_code)]

pub mod registry;
pub mod s3;
pub mod server;
pub mod smtp;
pub mod soft_passkey;
pub mod specimen;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use transfer_desk::{Services, Settings};

/// Every log line the app writes in this test binary, for "never logged" checks.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = LogWriter(Arc::clone(&buffer));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A temporary directory of this test process's own, made the process's `TMPDIR` the first
/// time it is asked for (and kept: tests running beside it create their files there too).
pub fn process_temp_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("transfer-desk-tests-")
            .tempdir()
            .unwrap()
            .keep();
        std::env::set_var("TMPDIR", &dir);
        dir
    })
}

pub struct TestApp {
    pub client: Client,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// A fresh app: temp data dir, and a fresh database (SQLite there, or a new PostgreSQL
    /// database when `TEST_POSTGRES_URL` names a server).
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    /// A fresh app whose settings `adjust` may change first.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::build(true, adjust).await
    }

    /// An app whose client keeps no cookies: each request carries exactly the cookies the
    /// test gives it, so several reviewers can act side by side.
    pub async fn start_for_staff(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::build(false, adjust).await
    }

    async fn build(tracked: bool, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        log_buffer();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(dir.path()).await;
        adjust(&mut settings);
        let rocket = transfer_desk::rocket(settings).await.expect("app starts");
        let client = if tracked {
            Client::tracked(rocket).await
        } else {
            Client::untracked(rocket).await
        };
        TestApp {
            client: client.expect("valid rocket"),
            dir,
        }
    }

    pub fn services(&self) -> &Services {
        self.client.rocket().state::<Services>().unwrap()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.services().db
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub async fn add_domain(&self, domain: &str, name: &str, email: &str) {
        let csv = format!("domain,registrant_name,registrant_email\n{domain},{name},{email}\n");
        let report = transfer_desk::registry::domains::import_csv(self.db(), csv.as_bytes())
            .await
            .unwrap();
        assert_eq!(report.imported, 1);
    }

    pub async fn count<E>(&self, entity: E) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let _ = entity;
        E::find().count(self.db()).await.unwrap()
    }

    /// Files in the encrypted store.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.services().store.files_dir().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    /// Loads the form (setting the CSRF cookie) and returns its token.
    pub async fn csrf_token(&self) -> String {
        let page = self
            .client
            .get("/")
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap();
        let prefix = "name=\"csrf_token\" value=\"";
        let start = page.find(prefix).unwrap() + prefix.len();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    }

    pub async fn post_multipart<'c>(&'c self, path: &'c str, form: Multipart) -> LocalResponse<'c> {
        let (content_type, body) = form.finish();
        self.client
            .post(path)
            .header(content_type)
            .body(body)
            .dispatch()
            .await
    }

    /// Submits through the HTML form, with the CSRF token, as a same-origin browser would.
    pub async fn submit_form<'c>(&'c self, form: Multipart) -> LocalResponse<'c> {
        let token = self.csrf_token().await;
        let (content_type, body) = form.text("csrf_token", &token).finish();
        self.client
            .post("/requests")
            .header(content_type)
            .header(Header::new("Origin", "http://localhost"))
            .header(Header::new("Host", "localhost"))
            .header(Header::new("Sec-Fetch-Site", "same-origin"))
            .body(body)
            .dispatch()
            .await
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A reviewer's page (or action) of one request.
pub fn review_uri(id: uuid::Uuid, action: &str) -> String {
    format!("/review/requests/{id}{action}")
}

impl TestApp {
    /// A staff app with the sample domain, the admin alice and the reviewer bob.
    pub async fn with_staff(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let app = TestApp::start_for_staff(adjust).await;
        app.add_domain("example.com", "Anna Muster", "anna@example.com")
            .await;
        app.add_reviewer("alice", true).await;
        app.add_reviewer("bob", false).await;
        app
    }

    /// Submits the sample request (example.com, a camera photo) by the API.
    pub async fn submit_example(&self) -> (uuid::Uuid, String) {
        self.submit_by_api(valid_submission("example.com", &camera_photo()))
            .await
    }

    /// The kinds of a request's timeline events, in order.
    pub async fn timeline_kinds(&self, id: uuid::Uuid) -> Vec<String> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        entities::request_event::Entity::find()
            .filter(entities::request_event::Column::RequestId.eq(id))
            .order_by_asc(entities::request_event::Column::Id)
            .all(self.db())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// A public page's HTML, as sent.
    pub async fn page(&self, path: impl Into<String>) -> String {
        let path: String = path.into();
        self.client
            .get(path)
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap_or_default()
    }

    /// A staff page's HTML as `staff` sees it.
    pub async fn staff_page(&self, staff: &Staff, uri: impl Into<String>) -> String {
        self.staff_get(staff, uri.into())
            .await
            .into_string()
            .await
            .unwrap_or_default()
    }

    /// `staff` claims the request and approves it; the approval's answer.
    pub async fn claim_and_approve<'c>(
        &'c self,
        staff: &Staff,
        id: uuid::Uuid,
    ) -> LocalResponse<'c> {
        self.staff_post(staff, review_uri(id, "/claim"), &[]).await;
        self.staff_post(staff, review_uri(id, "/approve"), &[])
            .await
    }

    /// The request's documents that can still be read.
    pub async fn live_documents(&self, id: uuid::Uuid) -> Vec<entities::document::Model> {
        use sea_orm::{ColumnTrait, QueryFilter};
        entities::document::Entity::find()
            .filter(entities::document::Column::RequestId.eq(id))
            .filter(entities::document::Column::WrappedKey.is_not_null())
            .all(self.db())
            .await
            .unwrap()
    }
}

/// A signed-in reviewer, as a browser would hold it: a session cookie and the CSRF token.
#[derive(Clone)]
pub struct Staff {
    pub name: String,
    pub session: String,
    pub csrf: String,
}

impl TestApp {
    pub async fn add_reviewer(&self, name: &str, admin: bool) {
        transfer_desk::accounts::add_reviewer(self.db(), name, PASSWORD, admin)
            .await
            .unwrap();
    }

    /// Signs in through the login form and returns the session.
    pub async fn sign_in(&self, name: &str) -> Staff {
        let (response, session) = self.try_sign_in(name, PASSWORD, None).await;
        assert_eq!(response, Status::SeeOther, "sign-in of {name}");
        let session = session.expect("a session cookie");
        let page = self
            .client
            .get("/review")
            .private_cookie(rocket::http::Cookie::new("td_session", session.clone()))
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap();
        let prefix = "name=\"csrf_token\" value=\"";
        let start = page
            .find(prefix)
            .unwrap_or_else(|| panic!("a form with a CSRF token in {page}"))
            + prefix.len();
        let csrf = page[start..start + page[start..].find('"').unwrap()].to_owned();
        Staff {
            name: name.to_owned(),
            session,
            csrf,
        }
    }

    /// One login attempt; returns its status and the session cookie it set, if any.
    pub async fn try_sign_in(
        &self,
        name: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> (Status, Option<String>) {
        self.sign_in_attempt(name, password, forwarded_for, None)
            .await
    }

    /// One login attempt from the client address `from`.
    pub async fn try_sign_in_from(
        &self,
        name: &str,
        password: &str,
        from: &str,
    ) -> (Status, Option<String>) {
        let remote = std::net::SocketAddr::new(from.parse().unwrap(), 50000);
        self.sign_in_attempt(name, password, None, Some(remote))
            .await
    }

    async fn sign_in_attempt(
        &self,
        name: &str,
        password: &str,
        forwarded_for: Option<&str>,
        remote: Option<std::net::SocketAddr>,
    ) -> (Status, Option<String>) {
        let page = self.client.get("/review/login").dispatch().await;
        let csrf = form_token(&page);
        let mut request = self
            .client
            .post("/review/login")
            .header(ContentType::Form)
            .private_cookie(rocket::http::Cookie::new("td_csrf", csrf.clone()))
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("name", name),
                ("password", password),
            ]));
        if let Some(forwarded) = forwarded_for {
            request = request.header(Header::new("X-Forwarded-For", forwarded.to_owned()));
        }
        if let Some(remote) = remote {
            request = request.remote(remote);
        }
        let response = request.dispatch().await;
        let session = response
            .cookies()
            .get_private("td_session")
            .map(|c| c.value().to_owned());
        (response.status(), session)
    }

    pub async fn staff_get<'c>(&'c self, staff: &Staff, uri: String) -> LocalResponse<'c> {
        self.client
            .get(uri)
            .private_cookie(rocket::http::Cookie::new(
                "td_session",
                staff.session.clone(),
            ))
            .dispatch()
            .await
    }

    /// A reviewer's form POST, with the session's CSRF token.
    pub async fn staff_post<'c>(
        &'c self,
        staff: &Staff,
        uri: String,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'c> {
        let mut all = vec![("csrf_token", staff.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(uri)
            .header(ContentType::Form)
            .private_cookie(rocket::http::Cookie::new(
                "td_session",
                staff.session.clone(),
            ))
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// The requester sends the document asked for, from the tracking page's form.
    pub async fn provide_document(&self, token: &str, photo: &[u8]) {
        let page = self.client.get(format!("/track/{token}")).dispatch().await;
        let cookie = form_token(&page);
        let (content_type, body) = Multipart::new()
            .text("csrf_token", &cookie)
            .file("document", "again.jpg", "image/jpeg", photo)
            .finish();
        let response = self
            .client
            .post(format!("/track/{token}/document"))
            .header(content_type)
            .private_cookie(rocket::http::Cookie::new("td_csrf", cookie))
            .body(body)
            .dispatch()
            .await;
        assert_eq!(
            response.status(),
            Status::SeeOther,
            "the new document is accepted"
        );
    }

    /// The details of every audit event with `action`.
    pub async fn audit_details(&self, action: &str) -> Vec<String> {
        use sea_orm::{ColumnTrait, QueryFilter};
        entities::audit_event::Entity::find()
            .filter(entities::audit_event::Column::Action.eq(action))
            .all(self.db())
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| e.detail)
            .collect()
    }

    /// Submits a request by the API; returns its id and tracking token.
    pub async fn submit_by_api(&self, form: Multipart) -> (uuid::Uuid, String) {
        self.submit_by_api_in(form, None).await
    }

    /// Submits through the API from a browser whose language is `language`.
    pub async fn submit_by_api_in(
        &self,
        form: Multipart,
        language: Option<&str>,
    ) -> (uuid::Uuid, String) {
        let (content_type, body) = form.finish();
        let mut request = self.client.post("/api/v1/requests").header(content_type);
        if let Some(language) = language {
            request = request.header(Header::new("Accept-Language", language.to_owned()));
        }
        let response = request.body(body).dispatch().await;
        let status = response.status();
        let body: serde_json::Value = response.into_json().await.unwrap();
        assert_eq!(status, Status::Created, "{body}\n{}", captured_logs());
        (
            body["request_id"].as_str().unwrap().parse().unwrap(),
            body["tracking_token"].as_str().unwrap().to_owned(),
        )
    }

    /// The CSRF cookie a public page sets, to send its form back as a browser would.
    pub async fn page_token(&self, path: &str) -> String {
        let page = self.client.get(path).dispatch().await;
        assert_eq!(page.status(), Status::Ok, "{path}");
        form_token(&page)
    }

    /// A page's HTML, with the slashes that Tera escapes in values put back.
    pub async fn page_text(&self, path: &str) -> String {
        self.client
            .get(path)
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap()
            .replace("&#x2F;", "/")
    }

    /// Posts a public page's form with the browser's own token.
    pub async fn post_public_form(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> (Status, String) {
        self.post_forged_form(path, token, token, fields).await
    }

    /// A form whose token field is `field_token` while the browser's cookie holds `token`.
    pub async fn post_forged_form(
        &self,
        path: &str,
        token: &str,
        field_token: &str,
        fields: &[(&str, &str)],
    ) -> (Status, String) {
        let mut all = vec![("csrf_token", field_token)];
        all.extend_from_slice(fields);
        let response = self
            .client
            .post(path)
            .header(ContentType::Form)
            .private_cookie(rocket::http::Cookie::new("td_csrf", token.to_owned()))
            .body(form_body(&all))
            .dispatch()
            .await;
        (
            response.status(),
            response.into_string().await.unwrap_or_default(),
        )
    }

    /// Posts a public page's multipart form (with files) with the browser's own token.
    pub async fn post_public_multipart(
        &self,
        path: &str,
        token: &str,
        form: Multipart,
    ) -> (Status, String) {
        let (content_type, body) = form.text("csrf_token", token).finish();
        let response = self
            .client
            .post(path)
            .header(content_type)
            .private_cookie(rocket::http::Cookie::new("td_csrf", token.to_owned()))
            .body(body)
            .dispatch()
            .await;
        (
            response.status(),
            response.into_string().await.unwrap_or_default(),
        )
    }

    pub async fn status_by_api(&self, id: uuid::Uuid, token: &str) -> serde_json::Value {
        let response = self
            .client
            .get(format!("/api/v1/requests/{id}"))
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
        response.into_json().await.unwrap()
    }
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A photo that fires no fraud signal: large enough, with camera data, not a screen size.
pub fn camera_photo() -> Vec<u8> {
    let exif = exif_tiff(&[
        ascii_field(exif::Tag::Make, "Fairphone"),
        ascii_field(exif::Tag::Model, "FP5"),
    ]);
    let pixels = image::RgbImage::from_fn(1300, 900, |x, y| {
        image::Rgb([(x % 200) as u8 + 30, (y % 180) as u8 + 40, 120])
    });
    encode_jpeg(&pixels, Some(exif))
}

async fn test_settings(dir: &Path) -> Settings {
    let mut settings = Settings::in_dir(dir.join("data"));
    // Tests submit many requests from one (unknown) address; the limits have their own tests.
    settings.submissions_per_hour = 0;
    settings.submissions_per_domain_per_day = 0;
    // Reading document zones has its own tests (`zones`); elsewhere it would only cost time.
    settings.ocr_command = None;
    if let Some(url) = fresh_postgres_database().await {
        settings.database_url = url;
    }
    settings
}

/// A new, empty PostgreSQL database when `TEST_POSTGRES_URL` names a server; `None` means
/// the test uses SQLite in its data directory.
pub async fn fresh_postgres_database() -> Option<String> {
    let server = std::env::var("TEST_POSTGRES_URL").ok()?;
    let server = server.trim_end_matches('/').to_owned();
    let name = format!("td_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    Some(format!("{server}/{name}"))
}

/// A `multipart/form-data` body built by hand, so tests can send anything at all.
pub struct Multipart {
    body: Vec<u8>,
}

pub const BOUNDARY: &str = "----transfer-desk-test-boundary";

impl Multipart {
    pub fn new() -> Self {
        Multipart { body: Vec::new() }
    }

    pub fn text(mut self, name: &str, value: &str) -> Self {
        write!(
            self.body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .unwrap();
        self
    }

    pub fn file(mut self, name: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> Self {
        write!(
            self.body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .unwrap();
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn finish(mut self) -> (ContentType, Vec<u8>) {
        write!(self.body, "--{BOUNDARY}--\r\n").unwrap();
        let content_type =
            ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY));
        (content_type, self.body)
    }
}

/// A complete, valid submission for `domain` with `front` as the identity document.
pub fn valid_submission(domain: &str, front: &[u8]) -> Multipart {
    Multipart::new()
        .text("domain", domain)
        .text("full_name", "Anna Muster")
        .text("email", "anna@example.org")
        .text("phone", "+41 44 000 00 00")
        .text("relation", "holder")
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", front)
}

/// A JPEG photo of a document: lines of dark glyphs on a tinted card, sharp enough for the
/// quality checks; optionally with an EXIF segment.
pub fn jpeg_photo(width: u16, height: u16, exif_tiff: Option<Vec<u8>>) -> Vec<u8> {
    encode_jpeg(&document_pixels(width.into(), height.into()), exif_tiff)
}

/// The pixels of a document-like photo.
pub fn document_pixels(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        let line = (y / 12) % 3 != 2;
        let glyph = ((x / 5) * 7 + (y / 12) * 13) % 5 != 0 && (x % 5) < 3 && (y % 12) < 9;
        if line && glyph {
            image::Rgb([40, 40, 60])
        } else {
            image::Rgb([
                200 + (x * 40 / width) as u8,
                200 + (y * 30 / height) as u8,
                190,
            ])
        }
    })
}

pub fn encode_jpeg(pixels: &image::RgbImage, exif_tiff: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 92);
    if let Some(tiff) = exif_tiff {
        let mut segment = b"Exif\0\0".to_vec();
        segment.extend_from_slice(&tiff);
        encoder.add_app_segment(1, segment).unwrap();
    }
    encoder
        .encode(
            pixels.as_raw(),
            pixels.width() as u16,
            pixels.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

/// A TIFF/EXIF block with the given fields (written by kamadak-exif).
pub fn exif_tiff(fields: &[exif::Field]) -> Vec<u8> {
    let mut writer = exif::experimental::Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, false).unwrap();
    out.into_inner()
}

pub fn ascii_field(tag: exif::Tag, text: &str) -> exif::Field {
    exif::Field {
        tag,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
    }
}

/// A PNG whose header declares `width` × `height` with nothing behind it.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &png_ihdr(width, height, 8, 2));
    png
}

/// A small PNG file that declares `width` × `height` at `bit_depth` and `color_type` (6 is
/// RGBA): headers, a token of pixel data, the end. What it declares is what counts.
pub fn png_with_header(width: u32, height: u32, bit_depth: u8, color_type: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(
        &mut png,
        b"IHDR",
        &png_ihdr(width, height, bit_depth, color_type),
    );
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    png
}

fn png_ihdr(width: u32, height: u32, bit_depth: u8, color_type: u8) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, color_type, 0, 0, 0]);
    ihdr
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut tagged = kind.to_vec();
    tagged.extend_from_slice(data);
    png.extend_from_slice(&tagged);
    png.extend_from_slice(&crc32fast::hash(&tagged).to_be_bytes());
}

pub fn location(response: &LocalResponse<'_>) -> String {
    response
        .headers()
        .get_one("Location")
        .unwrap_or_default()
        .to_owned()
}

pub fn assert_status(response: &LocalResponse<'_>, status: Status) {
    assert_eq!(response.status(), status);
}

/// Every file under `root`, recursively (unreadable entries skipped).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found
}

/// The form token (CSRF cookie) a page set, to send its form back as a browser would.
pub fn form_token(page: &LocalResponse<'_>) -> String {
    page.cookies()
        .get_private("td_csrf")
        .expect("the page sets its form token")
        .value()
        .to_owned()
}
