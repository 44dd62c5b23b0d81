//! An S3-compatible server on loopback for the `s3` document store: moto's server (from
//! PyPI, `pip install 'moto[server]'`), with one empty bucket.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `required` (as `.ci/run` does) to make a missing moto a failure, not a skip.
const REQUIRED_VARIABLE: &str = "TRANSFER_DESK_S3_TESTS";
const SERVER: &str = "moto_server";

pub struct S3Server {
    child: Child,
    pub port: u16,
}

/// Whether moto's server can run here; `false` (after saying so) when it cannot and is not
/// required, a failure when it is required.
pub fn available() -> bool {
    let found = Command::new(SERVER)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let required = std::env::var(REQUIRED_VARIABLE).is_ok_and(|v| v == "required");
        assert!(
            !required,
            "{REQUIRED_VARIABLE}=required but {SERVER} is missing (pip install 'moto[server]')"
        );
        eprintln!("skipping S3 test: {SERVER} not installed (pip install 'moto[server]')");
    }
    found
}

impl S3Server {
    /// Starts the server on a free port with `bucket` created.
    pub fn start(bucket: &str) -> S3Server {
        let port = super::server::free_port();
        let child = Command::new(SERVER)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = S3Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server.create_bucket(bucket);
        server
    }

    fn create_bucket(&self, bucket: &str) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// The `AWS_*` variables that point the `object_store` client at this server.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "transfer-desk-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "transfer-desk-test".into()),
        ]
    }

    /// Stops the server, as an outage of the object store would.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
