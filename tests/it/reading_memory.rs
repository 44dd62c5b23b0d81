//! A picture of 1 × 2,000 pixels is a PNG of a few hundred bytes; read as an identity document
//! it once made the zone reader ask for gigabytes, and took the service down again after each
//! restart. The intake and the reading of such pictures stay within a bounded memory: measured
//! in a process of their own (this test binary, started again to run only
//! [`the_reading_in_a_child_process`]), under a limit on its address space, so that a
//! regression ends in a failed assertion here rather than in the machine running out of memory.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{document_pixels, encode_jpeg, process_temp_dir};
use transfer_desk::intake::{sanitize, IntakeLimits, Subject};

/// Set in the child's environment: the file it reports its peak memory to.
const REPORT_TO: &str = "TRANSFER_DESK_TEST_READING_REPORT";

/// Most resident memory the child may have used at its peak: the test binary itself takes
/// some tens of MiB; a reading that scales a strip to the crop width takes gigabytes.
const PEAK_BOUND_KIB: u64 = 300 * 1024;

/// The child's address space: past this its allocations fail and it stops, long before the
/// machine's memory (or another test's) is at stake.
const ADDRESS_SPACE: u64 = 1 << 30;

/// Shapes no identity document has, as intake stored them before it refused them (scaled to
/// at most 2,000 px a side): strips one or a few pixels thin, standing and lying.
const SHAPES: [(u32, u32); 6] = [
    (1, 2000),
    (2000, 1),
    (3, 2000),
    (60, 2000),
    (2000, 7),
    (1, 900),
];

#[test]
fn reading_pictures_no_document_has_stays_within_bounded_memory() {
    let dir = tempfile::tempdir_in(process_temp_dir()).unwrap();
    let report = dir.path().join("peak");
    let output = dir.path().join("output");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reading_memory::the_reading_in_a_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(REPORT_TO, &report)
        // Few malloc arenas: each reserves 64 MiB of address space.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&output).unwrap())
        .stderr(std::fs::File::create(dir.path().join("errors")).unwrap())
        .status()
        .unwrap();
    let said = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert!(
        status.success(),
        "the reading died ({status}):\n{}\n{}",
        said("output"),
        said("errors")
    );
    let peak_kib: u64 = said("peak").trim().parse().unwrap_or_else(|_| {
        panic!(
            "the child reported no peak: {}\n{}",
            said("output"),
            said("errors")
        )
    });
    assert!(
        peak_kib < PEAK_BOUND_KIB,
        "the reading took {} MiB at its peak",
        peak_kib / 1024
    );
}

/// Runs only as the child of the test above (which names it); elsewhere it does nothing.
#[tokio::test]
async fn the_reading_in_a_child_process() {
    let Some(report) = std::env::var_os(REPORT_TO) else {
        return;
    };
    limit_address_space(ADDRESS_SPACE);
    let dir = tempfile::tempdir().unwrap();
    let program = silent_ocr_program(dir.path());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for (width, height) in SHAPES {
        let pixels = document_pixels(width, height);
        let mut png = std::io::Cursor::new(Vec::new());
        pixels.write_to(&mut png, image::ImageFormat::Png).unwrap();
        // Refused or stored: either way within the bound.
        let _ = sanitize(
            png.get_ref(),
            Subject::IdentityDocument,
            &IntakeLimits::default(),
        );
        let stored = encode_jpeg(&pixels, None);
        let read = transfer_desk::intake::ocr::read_zone(&program, &stored, today).await;
        assert!(!matches!(read, Ok(Some(_))), "{width} × {height}: a zone?");
    }
    std::fs::write(report, peak_resident_kib().to_string()).unwrap();
}

/// An OCR program that reads its image and finds nothing: what is measured is ours.
fn silent_ocr_program(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("silent-ocr");
    std::fs::write(&path, "#!/bin/sh\ncat >/dev/null\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn limit_address_space(bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit only reads the struct it is given.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    assert_eq!(set, 0, "cannot limit the address space");
}

/// This process's peak resident memory (`VmHWM`), in KiB.
fn peak_resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}
