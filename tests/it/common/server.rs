//! The real `transfer-desk` binary on a free loopback port, with its own data directory and
//! database, as an operator would run it.

use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base: String,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    binary: PathBuf,
    workdir: PathBuf,
}

impl Server {
    /// Starts the binary with `settings` (environment variables) added to a fresh data
    /// directory and database, and waits until it accepts connections.
    pub async fn start(settings: &[(&str, &str)]) -> Server {
        Self::start_from(settings, false).await
    }

    /// Like [`Server::start`], with the binary copied alone into an empty directory and run
    /// from another one, as on a server it was copied to.
    pub async fn start_copied(settings: &[(&str, &str)]) -> Server {
        Self::start_from(settings, true).await
    }

    /// Starts the binary with settings it must refuse: waits for it to exit and returns its
    /// exit status and log.
    pub async fn refuses_to_start(settings: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
        let mut server = Self::spawn(settings, false).await;
        let status = server.wait_for_exit(Duration::from_secs(60));
        (status, server.log())
    }

    async fn start_from(settings: &[(&str, &str)], copied: bool) -> Server {
        let mut server = Self::spawn(settings, copied).await;
        let port = server
            .base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap();
        server.wait_until_listening(port);
        server
    }

    async fn spawn(settings: &[(&str, &str)], copied: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (binary, workdir) = if copied {
            let bin = dir.path().join("bin");
            let work = dir.path().join("elsewhere");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::create_dir_all(&work).unwrap();
            let binary = bin.join("transfer-desk");
            std::fs::copy(env!("CARGO_BIN_EXE_transfer-desk"), &binary).unwrap();
            (binary, work)
        } else {
            (
                PathBuf::from(env!("CARGO_BIN_EXE_transfer-desk")),
                dir.path().to_owned(),
            )
        };
        let port = free_port();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut env: Vec<(String, String)> = vec![
            ("TRANSFER_DESK_DATA_DIR".into(), path("data")),
            ("TRANSFER_DESK_UPLOADS_DIR".into(), path("uploads")),
            ("ROCKET_ADDRESS".into(), "127.0.0.1".into()),
            ("ROCKET_PORT".into(), port.to_string()),
            ("RUST_LOG".into(), "info".into()),
            // As operators run it: Rocket's release profile makes checks (a secret key for
            // every instance) that the debug profile skips.
            ("ROCKET_PROFILE".into(), "release".into()),
            // Reading document zones has its own tests; elsewhere it would only cost time.
            ("TRANSFER_DESK_OCR_COMMAND".into(), "off".into()),
        ];
        let shares_a_database = settings.iter().any(|(name, _)| *name == "DATABASE_URL");
        if !shares_a_database {
            if let Some(url) = super::fresh_postgres_database().await {
                env.push(("DATABASE_URL".into(), url));
            }
        }
        env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let log = File::create(dir.path().join("server.log")).unwrap();
        let child = command(&binary, &workdir, &env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the transfer-desk binary starts");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            env,
            binary,
            workdir,
        }
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the service and starts it again on the same port, data and database, with
    /// `settings` changed, as an operator changing its configuration does.
    pub fn restart_with(&mut self, settings: &[(&str, &str)]) {
        self.terminate();
        assert!(self.wait_for_exit(Duration::from_secs(60)).success());
        for (name, value) in settings {
            self.env.retain(|(existing, _)| existing != name);
            self.env.push((name.to_string(), value.to_string()));
        }
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        self.child = command(&self.binary, &self.workdir, &self.env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the transfer-desk binary starts again");
        let port = self.base.rsplit(':').next().unwrap().parse().unwrap();
        self.wait_until_listening(port);
    }

    /// Sends SIGTERM, as a service manager stopping the service does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end, at most `limit`.
    pub fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a command of the same binary against the same data; its exit code and output,
    /// whatever they are.
    pub fn run_for_status(&self, args: &[&str]) -> (Option<i32>, String) {
        let output = command(&self.binary, &self.workdir, &self.env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    }

    /// Runs a command of the same binary against the same data, feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> String {
        let mut child = command(&self.binary, &self.workdir, &self.env)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "transfer-desk {args:?}: {text}");
        text
    }

    /// The database the server uses, for a test to reach into.
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        let url = self
            .env
            .iter()
            .find(|(name, _)| name == "DATABASE_URL")
            .map(|(_, url)| url.clone())
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}/transfer-desk.sqlite3?mode=rw",
                    self.data_dir().display()
                )
            });
        sea_orm::Database::connect(url).await.unwrap()
    }

    pub fn import_domains(&self, csv: &str) {
        let file = self.dir.path().join("portfolio.csv");
        std::fs::write(&file, csv).unwrap();
        self.run(&["domains", "import", &file.display().to_string()], "");
    }

    pub fn add_reviewer(&self, name: &str, password: &str, admin: bool) {
        let mut args = vec!["reviewer", "add", name];
        if admin {
            args.push("--admin");
        }
        self.run(&args, &format!("{password}\n"));
    }

    /// The first-admin link, which the server writes to a private file in its data
    /// directory when its standard error is not a terminal.
    pub fn setup_link(&self) -> String {
        let file = self.data_dir().join("first-admin-link.txt");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(link) = std::fs::read_to_string(&file) {
                return link.trim().to_owned();
            }
            assert!(Instant::now() < deadline, "no setup link:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn uploads_dir(&self) -> PathBuf {
        self.dir.path().join("uploads")
    }

    /// A file the browser can upload.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> String {
        let file = self.dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        file.display().to_string()
    }

    /// The server process's peak resident memory so far, in KiB (Linux `VmHWM`).
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// Sends raw bytes over HTTP/1.1 (the body written from another thread, so that a server
    /// that answers early is not stuck behind it) and returns the status and the whole answer.
    pub fn raw_http(&self, head: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.raw_http_within(head, body, Duration::from_secs(60))
    }

    /// Like [`Server::raw_http`], giving up (status 0) when no answer came within `limit`.
    pub fn raw_http_within(&self, head: &str, body: Vec<u8>, limit: Duration) -> (u16, Vec<u8>) {
        use std::io::Read;
        let address = self.base.trim_start_matches("http://").to_owned();
        let mut stream = TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(limit)).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            // The server may close the connection once it has answered: that is fine.
            let _ = writer.write_all(&body);
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let _ = sender.join();
        let status = String::from_utf8_lossy(&answer)
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// One browser's cookies, kept across requests to any of the servers it talks to (several
/// instances behind a load balancer with no sticky sessions), over plain HTTP/1.1.
#[derive(Clone, Default)]
pub struct WebClient {
    cookies: std::collections::BTreeMap<String, String>,
    /// The `Set-Cookie` headers of the last answer, attributes and all.
    pub last_set_cookies: Vec<String>,
}

impl WebClient {
    pub fn get(&mut self, server: &Server, path: &str) -> (u16, String) {
        self.send(server, "GET", path, None)
    }

    /// Posts a form as a browser on the same site does (`Origin` and `Sec-Fetch-Site`).
    pub fn post_form(
        &mut self,
        server: &Server,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let body = super::form_body(fields).into_bytes();
        let content_type = "application/x-www-form-urlencoded";
        self.send(server, "POST", path, Some((content_type, body)))
    }

    /// Posts a multipart form (a page's form with files) as a browser on the same site does.
    pub fn post_multipart(
        &mut self,
        server: &Server,
        path: &str,
        form: super::Multipart,
    ) -> (u16, String) {
        let (content_type, body) = form.finish();
        let content_type = content_type.to_string();
        self.send(server, "POST", path, Some((&content_type, body)))
    }

    fn send(
        &mut self,
        server: &Server,
        method: &str,
        path: &str,
        form: Option<(&str, Vec<u8>)>,
    ) -> (u16, String) {
        let host = server.base.trim_start_matches("http://");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        let (content_type, body) = form.unwrap_or_default();
        if method == "POST" {
            head.push_str(&format!(
                "Origin: {}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
                server.base,
                body.len()
            ));
        }
        head.push_str("\r\n");
        let (status, answer) = server.raw_http(&head, body);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (headers, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        self.last_set_cookies.clear();
        for line in headers.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            self.last_set_cookies.push(value.trim().to_owned());
            let pair = value.trim().split(';').next().unwrap_or_default();
            if let Some((key, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(key);
                } else {
                    self.cookies.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        let location = headers
            .lines()
            .find_map(|line| {
                line.strip_prefix("location: ")
                    .or_else(|| line.strip_prefix("Location: "))
            })
            .map(|l| format!("\nLocation: {l}"))
            .unwrap_or_default();
        (status, format!("{body}{location}"))
    }

    /// The CSRF token a page's forms carry.
    pub fn form_token(page: &str) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = page.find(marker).expect("a form with a token") + marker.len();
        page[start..].split('"').next().unwrap().to_owned()
    }

    /// Signs in at the review login page of `server`.
    pub fn sign_in(&mut self, server: &Server, name: &str, password: &str) {
        let (_, page) = self.get(server, "/review/login");
        let token = Self::form_token(&page);
        let (status, answer) = self.post_form(
            server,
            "/review/login",
            &[
                ("name", name),
                ("password", password),
                ("csrf_token", &token),
            ],
        );
        assert_eq!(status, 303, "{answer}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log());
        }
    }
}

fn command(binary: &Path, dir: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir);
    command
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
