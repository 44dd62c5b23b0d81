//! Intake benchmark: ms per photo (sanitise + encrypt, one core) and peak memory with two
//! concurrent 12 MP submissions. Uses ../shared/photos when present, else a generated photo.
//!
//! cargo bench --bench intake

use std::path::Path;
use std::time::Instant;

use transfer_desk::crypto::{DataKey, DocumentBinding};
use transfer_desk::intake::{sanitize, IntakeLimits};

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
        "{:<28} {:>12} {:>10} {:>10} {:>10}",
        "photo", "size", "median ms", "min ms", "out"
    );
    for (name, bytes) in &photos {
        end_to_end(bytes, &limits);
        let mut times: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                end_to_end(bytes, &limits);
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let clean = sanitize(bytes, &limits).expect("benchmark photo is valid");
        let (w, h) = dimensions(bytes).unwrap_or_default();
        // The decoder alone: the floor under which intake cannot go on this machine.
        let mut decode_only: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                image::load_from_memory(bytes).expect("benchmark photo decodes");
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        decode_only.sort_by(f64::total_cmp);
        println!(
            "{:<28} {:>12} {:>10.1} {:>10.1} {:>10} {:>16.1}",
            name,
            format!("{w}x{h}"),
            times[ROUNDS / 2],
            times[0],
            format!("{}x{}", clean.width, clean.height),
            decode_only[ROUNDS / 2]
        );
    }
}

/// What intake does per document: sanitise, then seal under a fresh data key.
fn end_to_end(bytes: &[u8], limits: &IntakeLimits) -> usize {
    let clean = sanitize(bytes, limits).expect("benchmark photo is valid");
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
