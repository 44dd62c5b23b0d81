//! Intake: turn an untrusted upload into a clean, small, metadata-free JPEG.
//!
//! Pure functions over bytes: sniff by magic bytes, check the declared dimensions (and that
//! a document can have that shape) before decoding, decode under limits (decoder panics
//! contained), apply EXIF orientation, downscale, re-encode. Signals about the original are
//! recorded before it is dropped.

mod budget;
mod gate;
pub mod jpeg;
pub mod mrz;
pub mod ocr;
mod quality;
mod shape;
mod signals;
mod sniff;
pub mod watermark;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageReader};
use zeroize::Zeroizing;

pub use budget::{within_pixel_budget, OverPixelBudget, PIXEL_BUDGET};
pub use gate::IntakeGate;
pub use quality::{Quality, QualityProblem, MIN_SHARPNESS};
pub use shape::{ShapeProblem, Subject};
pub use signals::{Signals, ZoneSignals};
pub use sniff::{sniff, AcceptedFormat};

#[derive(Clone, Debug)]
pub struct IntakeLimits {
    /// Longest accepted side of an original, in pixels.
    pub max_side: u32,
    /// Most pixels accepted in an original.
    pub max_pixels: u64,
    /// Longest side of the stored copy (at most 2,400); larger photos are scaled down, never
    /// up. 2,000 px keeps an identity card legible when zoomed and keeps a 12 MP photo's
    /// intake near the decoder's own time (see `cargo bench --bench intake`).
    pub output_longest_side: u32,
    pub jpeg_quality: u8,
    /// Most memory a decoder may allocate, and most bytes a decoded image may take (pixels ×
    /// bytes per pixel, counting 16-bit channels and alpha): 50 MP of 8-bit RGBA.
    pub max_decoder_alloc: u64,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        Self {
            max_side: 10_000,
            max_pixels: PIXEL_BUDGET,
            output_longest_side: 2_000,
            jpeg_quality: 85,
            max_decoder_alloc: 200_000_000,
        }
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum IntakeError {
    #[error("this file is empty")]
    Empty,
    #[error("this file is not a JPEG, PNG or WebP photo")]
    NotAnAcceptedImage,
    #[error("the photo is too large ({width} × {height} pixels); the limit is 10,000 pixels a side and 50 megapixels")]
    TooManyPixels { width: u32, height: u32 },
    #[error("this picture ({width} × {height} pixels) is too narrow to be a photo of {subject}")]
    TooNarrow {
        subject: Subject,
        width: u32,
        height: u32,
    },
    #[error("this picture ({width} × {height} pixels) is too small to show {subject}")]
    TooSmallToShow {
        subject: Subject,
        width: u32,
        height: u32,
    },
    #[error("this photo could not be read: it may be damaged or incomplete")]
    Undecodable,
    #[error(
        "this photo holds too much image data to process (very many pixels at a high colour depth)"
    )]
    TooMuchImageData,
    #[error("this photo could not be processed")]
    Processing,
}

impl From<OverPixelBudget> for IntakeError {
    fn from(_: OverPixelBudget) -> Self {
        IntakeError::TooMuchImageData
    }
}

/// A sanitised document: a re-encoded JPEG with no metadata, and what the original showed.
pub struct CleanImage {
    pub jpeg: Zeroizing<Vec<u8>>,
    pub width: u32,
    pub height: u32,
    pub signals: Signals,
}

impl std::fmt::Debug for CleanImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CleanImage({}×{}, {} bytes)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// The memory one upload's intake needs at its peak, read from its headers alone: the
/// decoded image, its 8-bit RGB copy (unless it decodes to that already) and the output.
/// Refuses what is not an accepted image, has a shape no photo of `subject` has, or would
/// decode to more than the limits allow.
pub fn memory_needed(
    bytes: &[u8],
    subject: Subject,
    limits: &IntakeLimits,
) -> Result<u64, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    let format = sniff(bytes).ok_or(IntakeError::NotAnAcceptedImage)?;
    if let Some((width, height)) = sniff::png_declared_dimensions(bytes) {
        check_dimensions(width, height, subject, limits)?;
    }
    let decoder = catch_unwind(AssertUnwindSafe(|| {
        ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_decoder()
    }))
    .map_err(|_| IntakeError::Undecodable)?
    .map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, subject, limits)?;
    let decoded = decoder.total_bytes();
    if decoded > limits.max_decoder_alloc {
        return Err(IntakeError::TooMuchImageData);
    }
    let pixels = u64::from(width) * u64::from(height);
    let rgb_copy = if decoder.color_type() == image::ColorType::Rgb8 {
        0
    } else {
        pixels * 3
    };
    let side = u64::from(limits.output_longest_side);
    Ok(decoded + rgb_copy + side * side * 3)
}

/// Validates and sanitises one upload, a photo of `subject`. Never panics: a decoder panic
/// becomes `Undecodable`.
pub fn sanitize(
    bytes: &[u8],
    subject: Subject,
    limits: &IntakeLimits,
) -> Result<CleanImage, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    let format = sniff(bytes).ok_or(IntakeError::NotAnAcceptedImage)?;
    if format == AcceptedFormat::Jpeg && !sniff::jpeg_is_complete(bytes) {
        return Err(IntakeError::Undecodable);
    }
    catch_unwind(AssertUnwindSafe(|| {
        sanitize_image(bytes, format, subject, limits)
    }))
    .unwrap_or(Err(IntakeError::Undecodable))
}

fn sanitize_image(
    bytes: &[u8],
    format: AcceptedFormat,
    subject: Subject,
    limits: &IntakeLimits,
) -> Result<CleanImage, IntakeError> {
    // A PNG's IHDR is checked from the bytes: the decoder would read on to the pixel data.
    if let Some((width, height)) = sniff::png_declared_dimensions(bytes) {
        check_dimensions(width, height, subject, limits)?;
    }
    // Opening the decoder reads only the headers; the pixels are decoded further down,
    // after the declared dimensions have passed and under the decoder limits.
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_decoder()
        .map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, subject, limits)?;
    if decoder.total_bytes() > limits.max_decoder_alloc {
        return Err(IntakeError::TooMuchImageData);
    }
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_decoder_alloc);
    decoder.set_limits(decoder_limits).map_err(decode_error)?;
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = exif
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let scaled = match format {
        AcceptedFormat::Jpeg => decode_jpeg_scaled(bytes, width, height, limits),
        _ => None,
    };
    let decoded = match scaled {
        Some(decoded) => decoded?,
        None => DynamicImage::from_decoder(decoder)
            .map_err(decode_error)?
            .into_rgb8(),
    };

    let signals = oriented_signals(format, width, height, orientation, exif.as_deref());
    drop(exif);

    // Scale first, then orient: rotation commutes with scaling and is cheaper when small.
    let small = downscale(decoded, limits.output_longest_side)?;
    let mut small = DynamicImage::ImageRgb8(small);
    small.apply_orientation(orientation);
    let upright = small.into_rgb8();
    let (w, h) = upright.dimensions();
    let mut signals = signals;
    let shorter_side = signals.original_width.min(signals.original_height);
    // The quality is measured while the photo is encoded: each reads the pixels only.
    let (quality, jpeg) = std::thread::scope(|scope| {
        let measuring = scope.spawn(|| Quality::measure(&upright, shorter_side));
        // The pixels are our decoder's: libjpeg-turbo never sees the upload itself.
        let jpeg = jpeg::encode_rgb(upright.as_raw(), w, h, limits.jpeg_quality);
        (measuring.join(), jpeg)
    });
    signals.quality = Some(quality.map_err(|_| IntakeError::Processing)?);
    let jpeg = jpeg.map_err(|_| IntakeError::Processing)?;
    Ok(CleanImage {
        jpeg,
        width: w,
        height: h,
        signals,
    })
}

/// A JPEG at least twice the stored size, decoded straight at a half, a quarter or an eighth
/// of it (the inverse DCT scales), never below the stored size: a 12 MP photo decodes to
/// 3 MP in well under the time of a full decode, and the resize from the full size goes.
/// `None` when the photo is smaller, or of a colour model (CMYK, 16-bit) left to the general
/// decoder.
fn decode_jpeg_scaled(
    bytes: &[u8],
    width: u32,
    height: u32,
    limits: &IntakeLimits,
) -> Option<Result<image::RgbImage, IntakeError>> {
    use jpeg_decoder::PixelFormat;
    let (longest, target) = (width.max(height), limits.output_longest_side);
    if longest < target.saturating_mul(2) {
        return None;
    }
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(
        usize::try_from(limits.max_decoder_alloc).unwrap_or(usize::MAX),
    );
    if decoder.read_info().is_err() {
        return Some(Err(IntakeError::Undecodable));
    }
    let format = decoder.info()?.pixel_format;
    if !matches!(format, PixelFormat::RGB24 | PixelFormat::L8) {
        return None;
    }
    // The smallest scale whose sides are at least these.
    let at_least = |side: u32| {
        let scaled = (u64::from(side) * u64::from(target)).div_ceil(u64::from(longest));
        u16::try_from(scaled).unwrap_or(u16::MAX)
    };
    let (w, h) = match decoder.scale(at_least(width), at_least(height)) {
        Ok(size) => size,
        Err(_) => return Some(Err(IntakeError::Undecodable)),
    };
    if let Err(over) = within_pixel_budget(w, h) {
        return Some(Err(over.into()));
    }
    let Ok(pixels) = decoder.decode() else {
        return Some(Err(IntakeError::Undecodable));
    };
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb = match format {
        PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        _ => pixels,
    };
    Some(image::RgbImage::from_raw(w, h, rgb).ok_or(IntakeError::Undecodable))
}

fn check_dimensions(
    width: u32,
    height: u32,
    subject: Subject,
    limits: &IntakeLimits,
) -> Result<(), IntakeError> {
    if width.max(height) > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
        || within_pixel_budget(width, height).is_err()
    {
        return Err(IntakeError::TooManyPixels { width, height });
    }
    if width == 0 || height == 0 {
        return Err(IntakeError::Undecodable);
    }
    match subject.shape_problem(width, height) {
        Some(ShapeProblem::TooNarrow) => Err(IntakeError::TooNarrow {
            subject,
            width,
            height,
        }),
        Some(ShapeProblem::TooSmall) => Err(IntakeError::TooSmallToShow {
            subject,
            width,
            height,
        }),
        None => Ok(()),
    }
}

fn oriented_signals(
    format: AcceptedFormat,
    width: u32,
    height: u32,
    orientation: image::metadata::Orientation,
    exif: Option<&[u8]>,
) -> Signals {
    use image::metadata::Orientation::*;
    let (w, h) = match orientation {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (height, width),
        _ => (width, height),
    };
    Signals::observe(format, w, h, exif)
}

fn decode_error(error: image::ImageError) -> IntakeError {
    match error {
        image::ImageError::Limits(_) => IntakeError::TooManyPixels {
            width: 0,
            height: 0,
        },
        _ => IntakeError::Undecodable,
    }
}

/// Fits `image` into `longest` pixels on its longest side; never scales up.
fn downscale(image: image::RgbImage, longest: u32) -> Result<image::RgbImage, IntakeError> {
    let (width, height) = image.dimensions();
    let current = width.max(height);
    if current <= longest {
        return Ok(image);
    }
    let scale = f64::from(longest) / f64::from(current);
    let out_w = ((f64::from(width) * scale).round() as u32).clamp(1, longest);
    let out_h = ((f64::from(height) * scale).round() as u32).clamp(1, longest);
    within_pixel_budget(out_w, out_h)?;
    let src = fr::images::ImageRef::new(width, height, image.as_raw(), fr::PixelType::U8x3)
        .map_err(|_| IntakeError::Processing)?;
    let mut dst = fr::images::Image::new(out_w, out_h, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::CatmullRom));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|_| IntakeError::Processing)?;
    image::RgbImage::from_raw(out_w, out_h, dst.into_vec()).ok_or(IntakeError::Processing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitize_id(bytes: &[u8], limits: &IntakeLimits) -> Result<CleanImage, IntakeError> {
        sanitize(bytes, Subject::IdentityDocument, limits)
    }

    fn encode(raw: &[u8], width: u32, height: u32, color: jpeg_encoder::ColorType) -> Vec<u8> {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(raw, width as u16, height as u16, color)
            .unwrap();
        out
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        encode(img.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
    }

    #[test]
    fn large_photos_are_scaled_down_to_the_output_size() {
        let clean = sanitize_id(&jpeg(3000, 1500), &IntakeLimits::default()).unwrap();
        assert_eq!((clean.width, clean.height), (2000, 1000));
        let limits = IntakeLimits {
            output_longest_side: 2400,
            ..IntakeLimits::default()
        };
        let clean = sanitize_id(&jpeg(1500, 3000), &limits).unwrap();
        assert_eq!((clean.width, clean.height), (1200, 2400));
        assert_eq!(sniff(&clean.jpeg), Some(AcceptedFormat::Jpeg));
    }

    fn gray_jpeg(width: u32, height: u32) -> Vec<u8> {
        let img =
            image::GrayImage::from_fn(width, height, |x, y| image::Luma([((x + y) % 256) as u8]));
        encode(img.as_raw(), width, height, jpeg_encoder::ColorType::Luma)
    }

    /// Mean absolute difference per channel of two images of the same size.
    fn difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let total: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        total as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn large_jpegs_decode_at_a_fraction_and_look_like_a_full_decode_resized() {
        let limits = IntakeLimits::default();
        let bytes = jpeg(4000, 3000);
        let scaled = decode_jpeg_scaled(&bytes, 4000, 3000, &limits)
            .expect("taken at a scale")
            .unwrap();
        assert_eq!(scaled.dimensions(), (2000, 1500));
        let full = image::load_from_memory(&bytes).unwrap().into_rgb8();
        let resized = downscale(full, 2000).unwrap();
        let apart = difference(&scaled, &resized);
        assert!(apart < 8.0, "{apart}");
        // Half of 5000 is 2,500: resized on to the stored size afterwards.
        let clean = sanitize_id(&jpeg(5000, 2000), &limits).unwrap();
        assert_eq!((clean.width, clean.height), (2000, 800));
        // Grey photos come out as RGB; smaller ones take the general decoder.
        let gray = decode_jpeg_scaled(&gray_jpeg(4200, 2000), 4200, 2000, &limits)
            .unwrap()
            .unwrap();
        assert_eq!(gray.dimensions(), (2100, 1000));
        assert_eq!(gray.get_pixel(10, 0).0[0], gray.get_pixel(10, 0).0[2]);
        assert!(decode_jpeg_scaled(&bytes, 3999, 3000, &limits).is_none());
        assert_eq!(
            sanitize_id(&bytes[..bytes.len() / 2], &limits).err(),
            Some(IntakeError::Undecodable)
        );
    }

    #[test]
    fn small_photos_are_never_scaled_up() {
        let clean = sanitize_id(&jpeg(800, 600), &IntakeLimits::default()).unwrap();
        assert_eq!((clean.width, clean.height), (800, 600));
        assert!(clean.signals.low_resolution);
    }

    #[test]
    fn dimensions_are_refused_before_decoding() {
        let limits = IntakeLimits {
            max_side: 500,
            ..IntakeLimits::default()
        };
        assert_eq!(
            sanitize_id(&jpeg(600, 100), &limits).unwrap_err(),
            IntakeError::TooManyPixels {
                width: 600,
                height: 100
            }
        );
        let limits = IntakeLimits {
            max_pixels: 10_000,
            ..IntakeLimits::default()
        };
        assert!(matches!(
            sanitize_id(&jpeg(200, 200), &limits),
            Err(IntakeError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn shapes_no_document_has_are_refused_before_decoding() {
        let limits = IntakeLimits::default();
        let strip = jpeg(1, 2000);
        let narrow = IntakeError::TooNarrow {
            subject: Subject::IdentityDocument,
            width: 1,
            height: 2000,
        };
        assert_eq!(sanitize_id(&strip, &limits).unwrap_err(), narrow);
        assert_eq!(
            memory_needed(&strip, Subject::IdentityDocument, &limits),
            Err(narrow)
        );
        assert!(matches!(
            sanitize_id(&jpeg(150, 150), &limits),
            Err(IntakeError::TooSmallToShow { .. })
        ));
        let long_page = jpeg(400, 2000);
        assert!(sanitize(&long_page, Subject::Page, &limits).is_ok());
        assert!(matches!(
            sanitize_id(&long_page, &limits),
            Err(IntakeError::TooNarrow { .. })
        ));
    }

    #[test]
    fn empty_and_foreign_files_are_refused() {
        let limits = IntakeLimits::default();
        assert_eq!(sanitize_id(b"", &limits).unwrap_err(), IntakeError::Empty);
        assert_eq!(
            sanitize_id(b"<svg/>", &limits).unwrap_err(),
            IntakeError::NotAnAcceptedImage
        );
    }

    #[test]
    fn truncated_photos_are_undecodable() {
        let whole = jpeg(400, 300);
        for cut in [4, 20, 200, whole.len() / 2] {
            assert!(sanitize_id(&whole[..cut], &IntakeLimits::default()).is_err());
        }
    }
}
