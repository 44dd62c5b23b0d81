//! libjpeg-turbo (through the `mozjpeg` crate) for what this service produced itself: it
//! encodes pixels our own Rust decoders made, and decodes JPEGs we wrote and authenticated
//! (AES-GCM) before handing them over. An upload never reaches it: uploads are parsed by
//! memory-safe code only (`intake`).
//!
//! The C library reports errors by unwinding; every call is caught here and becomes a
//! [`JpegError`]. A build with `panic = "abort"` would turn such an error into a crash, so it
//! is refused at compile time.

#[cfg(panic = "abort")]
compile_error!("libjpeg errors unwind: never build Transfer Desk with panic = \"abort\"");

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::RgbImage;
use zeroize::Zeroizing;

use crate::platform::crypto::OpenedDocument;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JpegError {
    #[error("libjpeg refused the image")]
    Library,
    #[error("the image is larger than a JPEG can hold")]
    TooLarge,
    #[error("the image is over the pixel budget: {0}")]
    OverBudget(#[from] super::budget::OverPixelBudget),
}

/// Whether the binary holds libjpeg-turbo's SIMD code (it does when `nasm` was present at
/// build time; without it the library builds too, several times slower).
pub const SIMD: bool = cfg!(jpeg_simd);

/// Encodes 8-bit RGB `pixels` (`width` × `height`, this service's own) with libjpeg-turbo's
/// fast profile: baseline with the standard Huffman tables, no trellis, no progressive scans
/// (optimised Huffman tables would save under 1 % of the size for four times the time).
pub fn encode_rgb(
    pixels: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Zeroizing<Vec<u8>>, JpegError> {
    if width > 65_500 || height > 65_500 || pixels.len() != width as usize * height as usize * 3 {
        return Err(JpegError::TooLarge);
    }
    caught(|| {
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        compress.set_size(width as usize, height as usize);
        compress.set_quality(f32::from(quality));
        // Room for the whole file from the start: a document's bytes are not left behind
        // in a smaller buffer that was outgrown.
        let mut started = compress
            .start_compress(Vec::with_capacity(pixels.len() / 4 + 4096))
            .ok()?;
        started.write_scanlines(pixels).ok()?;
        started.finish().ok().map(Zeroizing::new)
    })
}

/// Decodes a JPEG this service wrote (and authenticated) to 8-bit RGB, for a view that is
/// watermarked and encoded again: with the fast integer IDCT and plain chroma upsampling
/// (about 2 ms less for 2,000 px; the difference is below what the next encode keeps).
pub fn decode_own_rgb(jpeg: &OpenedDocument) -> Result<RgbImage, JpegError> {
    caught(|| {
        let mut decompress = mozjpeg::Decompress::new_mem(jpeg).ok()?;
        let (width, height) = decompress.size();
        if let Err(over) = super::budget::within_pixel_budget(width as u64, height as u64) {
            return Some(Err(over.into()));
        }
        decompress.dct_method(mozjpeg::DctMethod::IntegerFast);
        decompress.do_fancy_upsampling(false);
        let mut started = decompress.rgb().ok()?;
        let (width, height) = (started.width() as u32, started.height() as u32);
        let pixels = started.read_scanlines::<u8>().ok()?;
        started.finish().ok()?;
        RgbImage::from_raw(width, height, pixels).map(Ok)
    })?
}

/// Runs `work` (calls into libjpeg), turning its unwinding and its `None` into an error.
fn caught<T>(work: impl FnOnce() -> Option<T>) -> Result<T, JpegError> {
    catch_unwind(AssertUnwindSafe(work))
        .ok()
        .flatten()
        .ok_or(JpegError::Library)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `bytes` sealed and opened again, as a stored document is before it is viewed.
    pub(crate) fn authenticated(bytes: &[u8]) -> OpenedDocument {
        let key = crate::platform::crypto::DataKey::generate().unwrap();
        let binding = crate::platform::crypto::DocumentBinding {
            request_id: uuid::Uuid::new_v4(),
            document_id: uuid::Uuid::new_v4(),
            key_version: 1,
        };
        let sealed = key.seal_document(&binding, bytes).unwrap();
        key.open_document(&binding, &sealed).unwrap()
    }

    fn pixels(width: u32, height: u32) -> Vec<u8> {
        image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 128])
        })
        .into_raw()
    }

    #[test]
    fn what_it_encodes_decodes_to_about_the_same_pixels() {
        let source = pixels(320, 200);
        let jpeg = encode_rgb(&source, 320, 200, 90).unwrap();
        assert_eq!(&jpeg[..2], b"\xff\xd8");
        let decoded = decode_own_rgb(&authenticated(&jpeg)).unwrap();
        assert_eq!(decoded.dimensions(), (320, 200));
        let difference: u64 = decoded
            .as_raw()
            .iter()
            .zip(&source)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        assert!(difference / (source.len() as u64) < 6, "{difference}");
    }

    /// libjpeg's own errors (which it raises by unwinding) come back as errors, not crashes.
    #[test]
    fn a_damaged_jpeg_is_an_error_not_a_crash() {
        let jpeg = encode_rgb(&pixels(64, 64), 64, 64, 80).unwrap();
        for broken in [&b"not a jpeg"[..], &jpeg[..40], &[]] {
            assert_eq!(
                decode_own_rgb(&authenticated(broken)),
                Err(JpegError::Library)
            );
        }
    }

    #[test]
    fn pixels_that_do_not_fit_the_size_are_refused() {
        assert_eq!(encode_rgb(&[0; 10], 2, 2, 80), Err(JpegError::TooLarge));
        assert_eq!(encode_rgb(&[], 70_000, 0, 80), Err(JpegError::TooLarge));
    }
}
