//! Reading an identity document's machine-readable zone with an external OCR program
//! (tesseract by default). It only ever sees images this service produced: the sanitised
//! JPEG, decoded here, cropped, binarised and handed over as PNG on its standard input. No
//! OCR library is linked into the service. Every image made on the way is sized first and
//! kept within the pixel budget (`intake::PIXEL_BUDGET`).

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use image::{DynamicImage, GrayImage, ImageBuffer, ImageDecoder, ImageFormat, Luma, Pixel};
use tokio::process::Command;

use super::budget::{within_pixel_budget, OverPixelBudget};
use super::mrz::{self, Zone};
use crate::platform::external::Environment;

/// How long one OCR run may take before it is stopped.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Width the crops are brought to: the zone's characters come out some 40 pixels tall,
/// which tesseract reads well, and a run stays well under a second.
const CROP_WIDTH: u32 = 1400;

/// Tallest a crop is made: twice its width, more than a passport page photographed upright
/// with its margins needs. A strip that no document is (one pixel by two thousand) comes out
/// narrower instead of billions of pixels tall.
const CROP_MAX_HEIGHT: u32 = 2 * CROP_WIDTH;

const ZONE_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the document could not be prepared for OCR")]
    Image,
    #[error("the document could not be prepared for OCR: {0}")]
    TooLarge(#[from] OverPixelBudget),
    #[error("the OCR program {0}")]
    Run(#[from] crate::platform::external::RunError),
    #[error("the OCR program failed ({0})")]
    Failed(std::process::ExitStatus),
}

/// Variables the OCR program may see: the service's own secrets never reach it.
fn allowed_variable(name: &str) -> bool {
    matches!(
        name,
        "PATH" | "HOME" | "LANG" | "LC_ALL" | "TZ" | "TESSDATA_PREFIX"
    )
}

/// Reads the zone of `jpeg` (a sanitised document): first in its lower part, where
/// passports and cards print it, then in the whole image, until every check digit holds.
/// The lines are taken from whichever reading gives the zone whose check digits hold best;
/// `None` when none shows a zone.
pub async fn read_zone(
    program: &Path,
    jpeg: &[u8],
    today: NaiveDate,
) -> Result<Option<Zone>, OcrError> {
    let jpeg = zeroize::Zeroizing::new(jpeg.to_vec());
    let image = tokio::task::spawn_blocking(move || decoded_grey(&jpeg))
        .await
        .map_err(|_| OcrError::Image)??;
    let image = Arc::new(image);
    let mut readings: Vec<zeroize::Zeroizing<String>> = Vec::new();
    let mut found = None;
    // The lower part, straightened, serves both of its preparations.
    let mut lower: Option<Arc<GrayImage>> = None;
    // Each preparation is made only when the ones before it did not give the whole zone.
    for preparation in [
        Preparation::LowerBinarised,
        Preparation::LowerGrey,
        Preparation::WholeBinarised,
    ] {
        let image = Arc::clone(&image);
        let known = lower.clone().filter(|_| preparation.is_lower());
        let (crop, level) = tokio::task::spawn_blocking(move || {
            let level = match known {
                Some(level) => level,
                None => Arc::new(preparation.level(&image)?),
            };
            let shown = preparation.finish(&level)?;
            let crop = png(&shown)?;
            drop(shown);
            Ok::<_, OcrError>((crop, level))
        })
        .await
        .map_err(|_| OcrError::Image)??;
        if preparation.is_lower() {
            lower = Some(level);
        }
        readings.push(run(program, &crop).await?);
        let texts: Vec<&str> = readings.iter().map(|text| text.as_str()).collect();
        found = mrz::find_in_readings(&texts, today);
        if found.as_ref().is_some_and(Zone::all_checks_hold) {
            break;
        }
    }
    Ok(found)
}

/// The sanitised JPEG in grey, once its size is known to be within the budget.
fn decoded_grey(jpeg: &[u8]) -> Result<GrayImage, OcrError> {
    let decoder =
        image::codecs::jpeg::JpegDecoder::new(Cursor::new(jpeg)).map_err(|_| OcrError::Image)?;
    let (width, height) = decoder.dimensions();
    within_pixel_budget(width, height)?;
    let image = DynamicImage::from_decoder(decoder).map_err(|_| OcrError::Image)?;
    Ok(image.into_luma8())
}

/// What tesseract is shown, in this order.
#[derive(Clone, Copy, Debug)]
enum Preparation {
    /// The lower part, where passports and cards print the zone, straightened and binarised.
    LowerBinarised,
    /// The same in grey.
    LowerGrey,
    /// The whole image, straightened and binarised.
    WholeBinarised,
}

impl Preparation {
    fn is_lower(self) -> bool {
        !matches!(self, Preparation::WholeBinarised)
    }

    /// The part of `image` it shows, scaled and straightened.
    fn level(self, image: &GrayImage) -> Result<GrayImage, OverPixelBudget> {
        let (width, height) = image.dimensions();
        // A card's three lines take more than its bottom third.
        let lower = height * 45 / 100;
        let part = if self.is_lower() {
            let bottom = image::imageops::crop_imm(image, 0, height - lower, width, lower);
            scaled_for_reading(&bottom.to_image())?
        } else {
            scaled_for_reading(image)?
        };
        straightened(&part)
    }

    /// What tesseract is shown of the straightened part.
    fn finish(self, level: &GrayImage) -> Result<std::borrow::Cow<'_, GrayImage>, OverPixelBudget> {
        Ok(match self {
            Preparation::LowerGrey => std::borrow::Cow::Borrowed(level),
            _ => std::borrow::Cow::Owned(binarised(level.clone())?),
        })
    }
}

/// The image turned so that its lines of text run level: the angle (within ±5°) at which
/// the dark pixels' rows are most sharply concentrated (a projection profile).
fn straightened(image: &GrayImage) -> Result<GrayImage, OverPixelBudget> {
    let angle = skew_angle(image);
    if angle.abs() < 0.2 {
        return Ok(image.clone());
    }
    rotated(image, -angle, Luma([255]))
}

fn skew_angle(image: &GrayImage) -> f32 {
    let threshold = otsu_threshold(image);
    let mut ink = image.clone();
    for Luma([value]) in ink.pixels_mut() {
        *value = if *value > threshold { 255 } else { 0 };
    }
    // The desk around a photographed document is dark too, and not text.
    clear_from_edges(&mut ink);
    let (w, h) = image.dimensions();
    let dark: Vec<(f32, f32)> = ink
        .enumerate_pixels()
        .filter(|(x, y, Luma([v]))| *v == 0 && x % 2 == 0 && y % 2 == 0)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    if dark.is_empty() {
        return 0.0;
    }
    let rows = (h + w / 5 + 2) as usize;
    let mut best = (0.0f32, 0u64);
    for step in -20..=20 {
        let angle = step as f32 * 0.25;
        let slope = angle.to_radians().tan();
        let mut histogram = vec![0u64; rows];
        for &(x, y) in &dark {
            // Rows of two pixels: the pixels sampled are every other row's.
            let row = (y - x * slope + (w as f32 / 10.0)) / 2.0;
            if row >= 0.0 && (row as usize) < rows {
                histogram[row as usize] += 1;
            }
        }
        let score: u64 = histogram.iter().map(|c| c * c).sum();
        if score > best.1 {
            best = (angle, score);
        }
    }
    best.0
}

/// `image` turned by `degrees` about its centre (bilinear), the corners filled with `fill`.
pub fn rotated<P>(
    image: &ImageBuffer<P, Vec<u8>>,
    degrees: f32,
    fill: P,
) -> Result<ImageBuffer<P, Vec<u8>>, OverPixelBudget>
where
    P: Pixel<Subpixel = u8>,
{
    let (w, h) = image.dimensions();
    within_pixel_budget(w, h)?;
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    Ok(ImageBuffer::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
            return fill;
        }
        let (x0, y0) = (sx as u32, sy as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let mut out = fill;
        for (c, value) in out.channels_mut().iter_mut().enumerate() {
            let at = |x: u32, y: u32| f32::from(image.get_pixel(x, y).channels()[c]);
            let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
            let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
            *value = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
        out
    }))
}

/// `image` brought to the crop width, or narrower where it would then be taller than
/// `CROP_MAX_HEIGHT`.
fn scaled_for_reading(image: &GrayImage) -> Result<GrayImage, OverPixelBudget> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Ok(image.clone());
    }
    let (width, height) = crop_size(w, h);
    // The resize goes through an image of the old width and the new height first.
    within_pixel_budget(w, height)?;
    within_pixel_budget(width, height)?;
    Ok(image::imageops::resize(
        image,
        width,
        height,
        image::imageops::FilterType::Triangle,
    ))
}

/// The size an image of `w` × `h` (neither zero) is scaled to for reading.
fn crop_size(w: u32, h: u32) -> (u32, u32) {
    let (w, h) = (u64::from(w), u64::from(h));
    let (width, max_height) = (u64::from(CROP_WIDTH), u64::from(CROP_MAX_HEIGHT));
    let height = h * width / w;
    if height <= max_height {
        return (CROP_WIDTH, height.max(1) as u32);
    }
    ((w * max_height / h).max(1) as u32, CROP_MAX_HEIGHT)
}

/// Black text on white: each pixel against Otsu's threshold of the whole crop; what is dark
/// and touches the edge (the desk around the document, a shadow) becomes white, with a white
/// margin around it all.
fn binarised(mut image: GrayImage) -> Result<GrayImage, OverPixelBudget> {
    let (w, h) = image.dimensions();
    let (framed_w, framed_h) = (w + 2 * MARGIN, h + 2 * MARGIN);
    within_pixel_budget(framed_w, framed_h)?;
    let threshold = otsu_threshold(&image);
    for Luma([value]) in image.pixels_mut() {
        *value = if *value > threshold { 255 } else { 0 };
    }
    clear_from_edges(&mut image);
    let mut framed = GrayImage::from_pixel(framed_w, framed_h, Luma([255]));
    image::imageops::replace(&mut framed, &image, i64::from(MARGIN), i64::from(MARGIN));
    Ok(framed)
}

const MARGIN: u32 = 24;

/// Turns white every black pixel connected to the image's edge.
fn clear_from_edges(image: &mut GrayImage) {
    let (w, h) = image.dimensions();
    let mut stack: Vec<(u32, u32)> = (0..w)
        .flat_map(|x| [(x, 0), (x, h.saturating_sub(1))])
        .chain((0..h).flat_map(|y| [(0, y), (w.saturating_sub(1), y)]))
        .collect();
    while let Some((x, y)) = stack.pop() {
        if x >= w || y >= h || image.get_pixel(x, y).0[0] != 0 {
            continue;
        }
        image.put_pixel(x, y, Luma([255]));
        stack.extend([
            (x + 1, y),
            (x.wrapping_sub(1), y),
            (x, y + 1),
            (x, y.wrapping_sub(1)),
        ]);
    }
}

/// The grey level that best splits the histogram into two classes (Otsu, 1979).
fn otsu_threshold(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for Luma([value]) in image.pixels() {
        histogram[usize::from(*value)] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum: f64 = histogram
        .iter()
        .enumerate()
        .map(|(level, count)| level as f64 * *count as f64)
        .sum();
    let (mut below_count, mut below_sum) = (0u64, 0f64);
    let (mut best_level, mut best_variance) = (0u8, -1f64);
    for (level, count) in histogram.iter().enumerate() {
        below_count += count;
        below_sum += level as f64 * *count as f64;
        let above_count = total - below_count;
        if below_count == 0 || above_count == 0 {
            continue;
        }
        let below_mean = below_sum / below_count as f64;
        let above_mean = (sum - below_sum) / above_count as f64;
        let variance = below_count as f64 * above_count as f64 * (below_mean - above_mean).powi(2);
        if variance > best_variance {
            best_variance = variance;
            best_level = level as u8;
        }
    }
    best_level
}

fn png(image: &GrayImage) -> Result<zeroize::Zeroizing<Vec<u8>>, OcrError> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|_| OcrError::Image)?;
    Ok(zeroize::Zeroizing::new(out))
}

/// One run of the program on one PNG: what it printed.
async fn run(program: &Path, png: &[u8]) -> Result<zeroize::Zeroizing<String>, OcrError> {
    let mut command = Command::new(program);
    command
        .args(["-", "-", "--psm", "6", "-c"])
        .arg(format!("tessedit_char_whitelist={ZONE_ALPHABET}"))
        .args(["-c", "load_system_dawg=0", "-c", "load_freq_dawg=0"]);
    let environment = Environment {
        inherited: allowed_variable,
        set: &[("OMP_THREAD_LIMIT", "1")],
    };
    let output = crate::platform::external::run(command, environment, png, TIMEOUT).await?;
    if !output.status.success() {
        return Err(OcrError::Failed(output.status));
    }
    Ok(zeroize::Zeroizing::new(
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_grey_levels_between_them() {
        let image = GrayImage::from_fn(100, 10, |x, _| Luma([if x < 30 { 40 } else { 200 }]));
        let threshold = otsu_threshold(&image);
        assert!((40..200).contains(&threshold), "{threshold}");
    }

    /// Text stays black; the dark desk along an edge becomes white; a white margin frames it.
    #[test]
    fn binarising_keeps_the_text_and_clears_the_desk() {
        let image = GrayImage::from_fn(200, 100, |x, y| {
            let desk = y >= 90;
            let text = (40..60).contains(&x) && (30..50).contains(&y);
            Luma([if desk || text { 30 } else { 220 }])
        });
        let binary = binarised(image).unwrap();
        assert_eq!(binary.dimensions(), (200 + 2 * MARGIN, 100 + 2 * MARGIN));
        let at = |x: u32, y: u32| binary.get_pixel(x + MARGIN, y + MARGIN).0[0];
        assert_eq!(at(50, 40), 0, "the text");
        assert_eq!(at(100, 95), 255, "the desk");
        assert_eq!(at(10, 10), 255, "the paper");
        assert_eq!(binary.get_pixel(0, 0).0[0], 255, "the margin");
    }

    /// A page photographed 2° askew is turned back level.
    #[test]
    fn the_skew_of_lines_of_text_is_found() {
        let lines = GrayImage::from_fn(800, 300, |x, y| {
            let rise = x as f32 * 2f32.to_radians().tan();
            let row = (y as f32 - rise).rem_euclid(60.0);
            Luma([if row < 12.0 && x % 20 < 14 { 20 } else { 230 }])
        });
        let angle = skew_angle(&lines);
        assert!((angle - 2.0).abs() <= 0.25, "{angle}");
        assert!(skew_angle(&straightened(&lines).unwrap()).abs() <= 0.25);
    }

    /// Crops are brought to the crop width, except strips no document is: those come out
    /// narrower, never taller than the bound.
    #[test]
    fn crops_are_scaled_to_the_width_within_a_bounded_height() {
        assert_eq!(crop_size(2000, 1500), (1400, 1050));
        assert_eq!(crop_size(300, 200), (1400, 933));
        assert_eq!(crop_size(2000, 1), (1400, 1));
        assert_eq!(crop_size(1, 900), (3, CROP_MAX_HEIGHT));
        assert_eq!(crop_size(1, 2000), (1, CROP_MAX_HEIGHT));
        let strip = GrayImage::from_pixel(1, 900, Luma([200]));
        let level = Preparation::LowerBinarised.level(&strip).unwrap();
        assert!(
            level.height() <= CROP_MAX_HEIGHT,
            "{:?}",
            level.dimensions()
        );
    }

    #[test]
    fn the_program_sees_only_allowed_variables() {
        assert!(allowed_variable("PATH") && allowed_variable("TESSDATA_PREFIX"));
        assert!(!allowed_variable("TRANSFER_DESK_MASTER_KEY"));
        assert!(!allowed_variable("DATABASE_URL"));
    }

    fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\ncat >/dev/null\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn blank_jpeg() -> Vec<u8> {
        let mut jpeg = Vec::new();
        image::RgbImage::from_pixel(300, 200, image::Rgb([250, 250, 250]))
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        jpeg
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    #[tokio::test]
    async fn a_program_that_fails_or_hangs_is_an_error_not_a_zone() {
        let dir = tempfile::tempdir().unwrap();
        let failing = script(dir.path(), "failing", "exit 3");
        let hanging = script(dir.path(), "hanging", "sleep 30");
        assert!(matches!(
            read_zone(&failing, &blank_jpeg(), today()).await,
            Err(OcrError::Failed(_))
        ));
        let started = std::time::Instant::now();
        assert!(matches!(
            read_zone(&hanging, &blank_jpeg(), today()).await,
            Err(OcrError::Run(crate::platform::external::RunError::Timeout(
                _
            )))
        ));
        assert!(started.elapsed() < Duration::from_secs(15));
    }

    #[tokio::test]
    async fn a_program_that_prints_a_zone_gives_it_and_sees_no_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("environment");
        let printing = script(
            dir.path(),
            "printing",
            &format!(
                "env > {}\necho 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<'\necho 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'",
                seen.display()
            ),
        );
        let zone = read_zone(&printing, &blank_jpeg(), today())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(zone.document_number, "L898902C3");
        let environment = std::fs::read_to_string(seen).unwrap();
        assert!(environment.contains("OMP_THREAD_LIMIT=1"));
        // `cargo test` runs tests with CARGO_* variables: none may reach the program.
        assert!(!environment.contains("CARGO"), "{environment}");
    }

    #[tokio::test]
    async fn a_program_that_prints_no_zone_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let printing = script(dir.path(), "printing", "echo 'IDENTITY CARD'");
        assert_eq!(
            read_zone(&printing, &blank_jpeg(), today()).await.unwrap(),
            None
        );
    }
}
