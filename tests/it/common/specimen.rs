//! Identity-document specimens for the OCR tests and the MRZ bench: a card or passport page
//! with its machine-readable zone drawn in OCR-B (Debian's `fonts-ocr-b`), then turned
//! slightly, blurred and JPEG-compressed as a phone photo would be.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

pub const OCR_B: &str = "/usr/share/fonts/opentype/ocr-b/OCRB.otf";

/// How a specimen is degraded.
#[derive(Clone, Copy, Debug)]
pub struct Degradation {
    pub angle_degrees: f32,
    pub blur_sigma: f32,
    pub jpeg_quality: u8,
    /// Amplitude of the speckle added to every pixel (0 for none).
    pub noise: u8,
    pub seed: u64,
}

impl Default for Degradation {
    fn default() -> Self {
        Self {
            angle_degrees: 1.5,
            blur_sigma: 1.0,
            jpeg_quality: 80,
            noise: 12,
            seed: 1,
        }
    }
}

/// The OCR-B font, when installed.
pub fn ocr_b() -> Option<FontVec> {
    let bytes = std::fs::read(OCR_B).ok()?;
    FontVec::try_from_vec(bytes).ok()
}

/// A JPEG of a document whose zone is `lines` (two lines of 44 make a passport page, others
/// a card), degraded by `how`.
pub fn document_with_zone(font: &FontVec, lines: &[&str], how: Degradation) -> Vec<u8> {
    let passport = lines.first().is_some_and(|l| l.len() == 44);
    let (width, height) = if passport { (1600, 1130) } else { (1600, 1010) };
    let mut page = RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            236 - (x * 20 / width) as u8,
            232 - (y * 16 / height) as u8,
            214,
        ])
    });
    // A photo, and some printed text above the zone.
    for y in 150..(height / 2 + 150) {
        for x in 60..420 {
            page.put_pixel(x, y, Rgb([150, 140, 135]));
        }
    }
    let printed = PxScale::from(44.0);
    for (n, text) in ["SPECIMEN", "UTOPIA", "ERIKSSON ANNA MARIA", "12 AUG 1974"]
        .iter()
        .enumerate()
    {
        draw(
            &mut page,
            font,
            printed,
            470.0,
            200.0 + n as f32 * 80.0,
            text,
            70,
        );
    }
    // The zone: OCR-B at a size that makes each line 90 % of the width.
    let widest = lines.iter().map(|l| l.len()).max().unwrap_or(30) as f32;
    let at_one = font
        .as_scaled(PxScale::from(1.0))
        .h_advance(font.glyph_id('M'));
    let size = width as f32 * 0.9 / (widest * at_one);
    let scale = PxScale::from(size);
    let line_height = size * 1.45;
    let top = height as f32 - 40.0 - line_height * lines.len() as f32;
    for (n, line) in lines.iter().enumerate() {
        let y = top + line_height * (n as f32 + 1.0);
        draw(&mut page, font, scale, width as f32 * 0.05, y, line, 25);
    }
    degrade(page, how)
}

/// Draws `text` with its baseline at `y`, in a dark grey.
fn draw(page: &mut RgbImage, font: &FontVec, scale: PxScale, x: f32, y: f32, text: &str, ink: u8) {
    let scaled = font.as_scaled(scale);
    let mut caret = x;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, y));
        caret += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i32 + gx as i32,
                bounds.min.y as i32 + gy as i32,
            );
            if px < 0 || py < 0 || px >= page.width() as i32 || py >= page.height() as i32 {
                return;
            }
            let pixel = page.get_pixel_mut(px as u32, py as u32);
            for channel in pixel.0.iter_mut() {
                let paper = f32::from(*channel);
                *channel = (paper + (f32::from(ink) - paper) * coverage).round() as u8;
            }
        });
    }
}

fn degrade(page: RgbImage, how: Degradation) -> Vec<u8> {
    let turned =
        transfer_desk::intake::ocr::rotated(&page, how.angle_degrees, Rgb([90, 80, 70])).unwrap();
    let mut blurred = if how.blur_sigma > 0.0 {
        image::imageops::blur(&turned, how.blur_sigma)
    } else {
        turned
    };
    let mut state = how.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    if how.noise > 0 {
        for pixel in blurred.pixels_mut() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let delta =
                ((state >> 33) % (2 * u64::from(how.noise) + 1)) as i32 - i32::from(how.noise);
            for channel in pixel.0.iter_mut() {
                *channel = (i32::from(*channel) + delta).clamp(0, 255) as u8;
            }
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, how.jpeg_quality)
        .encode_image(&blurred)
        .unwrap();
    out
}
