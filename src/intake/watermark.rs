//! Stamps a document view with who looked at it, when, and for which request, so a
//! screenshot or photo of the screen carries its origin.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::RgbImage;

use crate::platform::crypto::OpenedDocument;

#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    #[error("the stored document is not a readable JPEG")]
    Decode,
    #[error("the watermarked view could not be encoded")]
    Encode,
}

/// Decodes `jpeg` (a document this service wrote, opened from its authenticated seal: only
/// such may libjpeg-turbo's decoder read), writes `text` in diagonal-staggered rows
/// across the whole image, and re-encodes it.
pub fn watermark_jpeg(jpeg: &OpenedDocument, text: &str) -> Result<Vec<u8>, WatermarkError> {
    let mut pixels = super::jpeg::decode_own_rgb(jpeg).map_err(|_| WatermarkError::Decode)?;
    stamp(&mut pixels, text);
    let (width, height) = pixels.dimensions();
    let mut out = super::jpeg::encode_rgb(pixels.as_raw(), width, height, 85)
        .map_err(|_| WatermarkError::Encode)?;
    Ok(std::mem::take(&mut *out))
}

/// Draws `text` repeatedly over `image`: light glyphs with a dark shadow, readable on any
/// background, translucent enough to keep the document legible.
pub fn stamp(image: &mut RgbImage, text: &str) {
    let (width, height) = image.dimensions();
    let scale = (width.max(height) / 600).max(1);
    let glyph = 8 * scale;
    let text: Vec<[u8; 8]> = text
        .chars()
        .map(|c| {
            BASIC_FONTS
                .get(c)
                .or_else(|| BASIC_FONTS.get('?'))
                .unwrap_or([0; 8])
        })
        .collect();
    let text_width = glyph * text.len() as u32 + glyph * 4;
    let row_gap = glyph * 8;
    let mut row = 0u32;
    let mut y = glyph;
    while y < height {
        // Each row starts a little further left, so the rows read as a diagonal pattern.
        let mut x = -i64::from((row * glyph * 3) % text_width.max(1));
        while x < i64::from(width) {
            draw_text(image, &text, x, i64::from(y), i64::from(scale));
            x += i64::from(text_width);
        }
        y += row_gap;
        row += 1;
    }
}

fn draw_text(image: &mut RgbImage, text: &[[u8; 8]], left: i64, top: i64, scale: i64) {
    let shadow = (scale + 1) / 2;
    for (index, rows) in text.iter().enumerate() {
        let glyph_left = left + index as i64 * 8 * scale;
        for (gy, bits) in rows.iter().enumerate() {
            for gx in 0..8i64 {
                if bits & (1 << gx) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let x = glyph_left + gx * scale + dx;
                        let y = top + gy as i64 * scale + dy;
                        blend(image, x + shadow, y + shadow, SHADOW);
                        blend(image, x, y, LIGHT);
                    }
                }
            }
        }
    }
}

/// A colour to blend toward, and how much of it (out of 256).
struct Tint {
    toward: u32,
    alpha: u32,
}

/// The shadow: 30 % toward black. The glyph: 45 % toward white.
const SHADOW: Tint = Tint {
    toward: 0,
    alpha: 77,
};
const LIGHT: Tint = Tint {
    toward: 255,
    alpha: 115,
};

fn blend(image: &mut RgbImage, x: i64, y: i64, tint: Tint) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
        return;
    };
    let Some(pixel) = image.get_pixel_mut_checked(x, y) else {
        return;
    };
    let keep = 256 - tint.alpha;
    let add = tint.toward * tint.alpha + 128;
    for channel in pixel.0.iter_mut() {
        *channel = ((u32::from(*channel) * keep + add) >> 8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::jpeg::tests::authenticated;

    #[test]
    fn the_stamp_changes_pixels_all_over_the_image() {
        let mut image = RgbImage::from_pixel(1200, 900, image::Rgb([40, 40, 40]));
        stamp(&mut image, "Viewed by alice 2026-11-25 10:00 UTC #1a2b3c4d");
        let changed = |x0: u32, y0: u32| {
            (x0..x0 + 300)
                .flat_map(|x| (y0..y0 + 300).map(move |y| (x, y)))
                .any(|(x, y)| image.get_pixel(x, y).0 != [40, 40, 40])
        };
        assert!(changed(0, 0) && changed(900, 600) && changed(0, 600) && changed(900, 0));
    }

    #[test]
    fn a_watermarked_view_is_still_a_jpeg_of_the_same_size() {
        let image = RgbImage::from_pixel(320, 200, image::Rgb([200, 200, 200]));
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90)
            .encode(image.as_raw(), 320, 200, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        let marked = watermark_jpeg(&authenticated(&jpeg), "alice").unwrap();
        let decoded = image::load_from_memory(&marked).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (320, 200));
        assert!(watermark_jpeg(&authenticated(b"not a jpeg"), "x").is_err());
    }
}
