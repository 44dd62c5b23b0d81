//! Intake benchmark: ms per photo (sanitise + encrypt: the time a requester waits, and the
//! CPU time of all the threads it used, as the decoder and the quality measure run beside the
//! main thread) beside libjpeg-turbo's own
//! tools doing the same work on the same photo (`djpeg -scale 1/2 | cjpeg`, when installed:
//! `apt-get install libjpeg-turbo-progs`), peak memory with two concurrent 12 MP submissions,
//! and what the encoder change did to the output (libjpeg-turbo against the pure-Rust
//! `jpeg-encoder` of earlier versions, on the same pixels). Uses ../shared/photos when
//! present, else a generated photo.
//!
//! cargo bench --bench intake

use std::path::Path;
use std::time::Instant;

use transfer_desk::intake::{sanitize, IntakeLimits, Subject};
use transfer_desk::platform::crypto::{DataKey, DocumentBinding};

const ROUNDS: usize = 10;

fn main() {
    let photos = load_photos();
    let limits = IntakeLimits::default();

    // Peak memory first, while the process is still small.
    let twelve_mp = photos
        .iter()
        .find(|(_, bytes)| dimensions(bytes).is_some_and(|(w, h)| w * h >= 11_000_000))
        .map(|(_, bytes)| bytes.clone())
        .unwrap_or_else(generated_12mp);
    reset_peak_rss();
    let baseline = peak_rss_mb();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| end_to_end(&twelve_mp, &limits));
        }
    });
    println!(
        "peak RSS with two concurrent 12 MP intakes: {:.0} MB (process before: {:.0} MB)",
        peak_rss_mb(),
        baseline
    );

    println!(
        "\n{:<26} {:>9} {:>9} {:>8} {:>9} {:>10} {:>12} {:>7}",
        "photo", "size", "ours ms", "cpu ms", "decode", "out", "turbo ms", "ratio"
    );
    for (name, bytes) in &photos {
        end_to_end(bytes, &limits);
        let cpu_before = cpu_ms();
        let times = median_ms(|| {
            end_to_end(bytes, &limits);
        });
        let cpu = (cpu_ms() - cpu_before) / ROUNDS as f64;
        let clean =
            sanitize(bytes, Subject::IdentityDocument, &limits).expect("benchmark photo is valid");
        let (w, h) = dimensions(bytes).unwrap_or_default();
        // The Rust decoder alone, at full size: what intake avoids with its scaled decode.
        let decode_only = median_ms(|| {
            image::load_from_memory(bytes).expect("benchmark photo decodes");
        });
        let turbo = turbo_pipeline_ms(bytes, w.max(h), limits.output_longest_side);
        println!(
            "{:<26} {:>9} {:>9.1} {:>8.1} {:>9.1} {:>10} {:>12} {:>7}",
            name,
            format!("{w}x{h}"),
            times,
            cpu,
            decode_only,
            format!("{}x{}", clean.width, clean.height),
            turbo.map_or("-".into(), |t| format!("{t:.1}")),
            turbo.map_or("-".into(), |t| format!("{:.2}", times / t)),
        );
    }
    if turbo_tools().is_some() {
        println!("turbo ms: `djpeg -scale 1/N | cjpeg -quality 85` on the same file, as whole processes (their start-up included); ratio: ours / theirs; cpu ms: the CPU time of all the threads intake used, per photo");
    }

    println!(
        "\n{:<26} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "encoder change", "old bytes", "new bytes", "size", "old MAD", "new MAD", "old-new"
    );
    for (name, bytes) in &photos {
        encoder_change(name, bytes, &limits);
    }
    println!("MAD: mean absolute difference per channel (0-255) from the pixels encoded, and between the two outputs");
}

/// The CPU time this process has used so far, all its threads together.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

fn median_ms(mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[ROUNDS / 2]
}

/// `djpeg` and `cjpeg` from libjpeg-turbo-progs, when installed.
fn turbo_tools() -> Option<()> {
    let runs = |tool: &str| {
        std::process::Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stderr).contains("libjpeg-turbo"))
    };
    (runs("djpeg") && runs("cjpeg")).then_some(())
}

/// libjpeg-turbo's tools doing intake's work on a JPEG: decoded at the scale that keeps the
/// stored size, then encoded at quality 85; the median of whole runs, in ms.
fn turbo_pipeline_ms(bytes: &[u8], longest: u32, target: u32) -> Option<f64> {
    turbo_tools()?;
    if !bytes.starts_with(b"\xff\xd8") {
        return None;
    }
    let scale = [8, 4, 2, 1]
        .into_iter()
        .find(|n| longest / n >= target)
        .unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, bytes).unwrap();
    let script = format!(
        "djpeg -scale 1/{scale} {} | cjpeg -quality 85 > /dev/null",
        input.display()
    );
    Some(median_ms(|| {
        let status = std::process::Command::new("sh")
            .args(["-c", &script])
            .status()
            .unwrap();
        assert!(status.success());
    }))
}

/// The same pixels (the photo resized to the stored size) through the old encoder and the
/// new one: sizes, and the mean absolute difference of each from the pixels and of the two.
fn encoder_change(name: &str, bytes: &[u8], limits: &IntakeLimits) {
    let original = image::load_from_memory(bytes).unwrap();
    let pixels = original
        .resize(
            limits.output_longest_side,
            limits.output_longest_side,
            image::imageops::FilterType::Triangle,
        )
        .into_rgb8();
    let (w, h) = pixels.dimensions();
    let mut old = Vec::new();
    jpeg_encoder::Encoder::new(&mut old, limits.jpeg_quality)
        .encode(
            pixels.as_raw(),
            w as u16,
            h as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    let new = transfer_desk::intake::jpeg::encode_rgb(pixels.as_raw(), w, h, limits.jpeg_quality)
        .unwrap();
    let decoded_old = image::load_from_memory(&old).unwrap().into_rgb8();
    let decoded_new = image::load_from_memory(&new).unwrap().into_rgb8();
    let mad = |a: &[u8], b: &[u8]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.len() as f64
    };
    println!(
        "{:<26} {:>10} {:>10} {:>8.1}% {:>9.2} {:>9.2} {:>9.2}",
        name,
        old.len(),
        new.len(),
        (new.len() as f64 / old.len() as f64 - 1.0) * 100.0,
        mad(pixels.as_raw(), decoded_old.as_raw()),
        mad(pixels.as_raw(), decoded_new.as_raw()),
        mad(decoded_old.as_raw(), decoded_new.as_raw()),
    );
}

/// What intake does per document: sanitise, then seal under a fresh data key.
fn end_to_end(bytes: &[u8], limits: &IntakeLimits) -> usize {
    let clean =
        sanitize(bytes, Subject::IdentityDocument, limits).expect("benchmark photo is valid");
    let binding = DocumentBinding {
        request_id: uuid::Uuid::new_v4(),
        document_id: uuid::Uuid::new_v4(),
        key_version: 1,
    };
    DataKey::generate()
        .unwrap()
        .seal_document(&binding, &clean.jpeg)
        .unwrap()
        .len()
}

fn load_photos() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/photos");
    let mut photos: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            name.ends_with(".jpg") || name.ends_with(".png") || name.ends_with(".webp")
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    photos.sort();
    if photos.is_empty() {
        println!("(no ../shared/photos: using a generated 12 MP photo)");
        photos.push(("generated_4000x3000.jpg".into(), generated_12mp()));
    }
    photos
}

fn generated_12mp() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(4000, 3000, |x, y| {
        let noise = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) % 23;
        image::Rgb([
            ((x / 16) % 256) as u8,
            ((y / 12) % 256) as u8,
            (noise * 11) as u8,
        ])
    });
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(pixels.as_raw(), 4000, 3000, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
