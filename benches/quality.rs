//! Photo quality: calibrates the blur threshold on real photos and blurred copies of them,
//! and times the checks on a 12 MP photo's intake. Uses ../shared/photos when present, else a
//! generated photo (then the calibration figures mean little).
//!
//! cargo bench --bench quality

use std::path::Path;
use std::time::Instant;

use transfer_desk::intake::{sanitize, IntakeLimits, Quality, QualityProblem, Subject};

fn main() {
    let limits = IntakeLimits::default();
    let photos = load_photos();
    println!(
        "{:<26} {:>7} {:>10} {:>10}  problems",
        "photo", "blur σ", "sharpness", "brightness"
    );
    let mut sharp_min = f32::MAX;
    let mut blurred_max = 0f32;
    for (name, bytes) in &photos {
        let clean = sanitize(bytes, Subject::IdentityDocument, &limits).expect("a photo");
        let upright = image::load_from_memory(&clean.jpeg).unwrap().into_rgb8();
        for sigma in [0.0f32, 1.0, 2.0, 3.0, 5.0] {
            let image = if sigma == 0.0 {
                upright.clone()
            } else {
                image::imageops::blur(&upright, sigma)
            };
            let quality = Quality::measure(
                &image,
                clean
                    .signals
                    .original_width
                    .min(clean.signals.original_height),
            );
            println!(
                "{:<26} {:>7.1} {:>10.1} {:>10.1}  {:?}",
                name,
                sigma,
                quality.sharpness,
                quality.brightness,
                quality.problems()
            );
            if sigma == 0.0 {
                sharp_min = sharp_min.min(quality.sharpness);
            } else if sigma >= 2.0 {
                blurred_max = blurred_max.max(quality.sharpness);
            }
        }
    }
    let threshold = transfer_desk::intake::MIN_SHARPNESS;
    println!(
        "sharpest blurred copy (σ ≥ 2): {blurred_max:.1}; least sharp original: {sharp_min:.1}; threshold {threshold}"
    );
    // The calibration holds: every original passes, every copy blurred with σ ≥ 2 fails.
    assert!(
        blurred_max < threshold && threshold < sharp_min,
        "the threshold no longer separates sharp from blurred photos"
    );
    let _ = QualityProblem::Blurred;

    // What the checks add to an intake: measured on the upright image as intake has it.
    let twelve = photos
        .iter()
        .find(|(_, b)| image_size(b) >= 11_000_000)
        .map(|(_, b)| b.clone());
    if let Some(bytes) = twelve {
        let clean = sanitize(&bytes, Subject::IdentityDocument, &limits).unwrap();
        let upright = image::load_from_memory(&clean.jpeg).unwrap().into_rgb8();
        let mut times: Vec<f64> = (0..30)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(Quality::measure(&upright, 3000));
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "quality checks on a 12 MP photo's intake ({}×{}): median {:.2} ms, max {:.2} ms",
            upright.width(),
            upright.height(),
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}

fn image_size(bytes: &[u8]) -> u64 {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        .map_or(0, |(w, h)| u64::from(w) * u64::from(h))
}

fn load_photos() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/photos");
    let mut photos: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    e.path()
                        .extension()
                        .is_some_and(|x| x == "jpg" || x == "png")
                })
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    photos.sort();
    if photos.is_empty() {
        eprintln!("no ../shared/photos: using a generated photo");
        let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        photos.push(("generated.jpg".into(), out));
    }
    photos
}
