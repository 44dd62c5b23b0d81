//! A real SMTP server on loopback for the mail tests: Debian's python3-aiosmtpd, saving
//! every message it accepts as a file.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `required` (as `.ci/run` does) to make a missing aiosmtpd a failure, not a skip.
const REQUIRED_VARIABLE: &str = "TRANSFER_DESK_MAIL_TESTS";
const PYTHON: &str = "/usr/bin/python3";

const SERVER: &str = r#"
import itertools, os, sys, time
from aiosmtpd.controller import Controller
port, outdir = int(sys.argv[1]), sys.argv[2]
counter = itertools.count()
class Save:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(outdir, "%04d.eml" % next(counter))
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"
controller = Controller(Save(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

pub struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

/// Whether aiosmtpd can run here; `false` (after saying so) when it cannot and is not
/// required, a failure when it is required.
pub fn available() -> bool {
    let found = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let required = std::env::var(REQUIRED_VARIABLE).is_ok_and(|v| v == "required");
        assert!(
            !required,
            "{REQUIRED_VARIABLE}=required but aiosmtpd is missing (apt-get install python3-aiosmtpd)"
        );
        eprintln!("skipping mail test: aiosmtpd not installed (apt-get install python3-aiosmtpd)");
    }
    found
}

impl SmtpSink {
    /// Starts the server on `port` and waits until it accepts connections.
    pub fn start(port: u16) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(PYTHON)
            .args(["-c", SERVER, &port.to_string()])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { child, dir, port }
    }

    /// Every message received so far, as raw RFC 5322 text, in order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
