//! Hostile photos: JPEG, PNG and WebP files with flipped bits, cut short, or with the header
//! of one format spliced onto the body of another. Intake answers each with a clean JPEG or a
//! typed error, never a panic. (How long intake takes is measured by the intake bench, not
//! asserted here: a busy machine made a 5-second bound fail on an input that was fine.)

use crate::common::*;
use proptest::prelude::*;
use transfer_desk::intake::{sanitize, IntakeLimits, Subject};

/// The three accepted formats, each a small document photo.
fn originals() -> [Vec<u8>; 3] {
    let pixels = document_pixels(320, 240);
    let mut png = std::io::Cursor::new(Vec::new());
    pixels.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let mut webp = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels.clone())
        .write_to(&mut webp, image::ImageFormat::WebP)
        .unwrap();
    [
        encode_jpeg(&pixels, None),
        png.into_inner(),
        webp.into_inner(),
    ]
}

fn assert_clean_or_refused(bytes: &[u8]) {
    match sanitize(bytes, Subject::IdentityDocument, &IntakeLimits::default()) {
        Ok(clean) => {
            assert_eq!(&clean.jpeg[..2], &[0xFF, 0xD8], "a JPEG comes out");
            assert!(
                image::load_from_memory(&clean.jpeg).is_ok(),
                "and it decodes"
            );
        }
        Err(error) => {
            let _typed: transfer_desk::intake::IntakeError = error;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn flipped_bits_never_panic(which in 0usize..3, flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..24)) {
        let mut bytes = originals()[which].clone();
        for (at, bit) in flips {
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
        }
        assert_clean_or_refused(&bytes);
    }

    #[test]
    fn truncations_never_panic(which in 0usize..3, keep in 0.0f64..1.0) {
        let bytes = &originals()[which];
        let cut = (bytes.len() as f64 * keep) as usize;
        assert_clean_or_refused(&bytes[..cut]);
    }

    #[test]
    fn spliced_headers_never_panic(head in 0usize..3, body in 0usize..3, split in 8usize..200) {
        let all = originals();
        let (head, body) = (&all[head], &all[body]);
        let split = split.min(head.len()).min(body.len());
        let mut spliced = head[..split].to_vec();
        spliced.extend_from_slice(&body[split..]);
        assert_clean_or_refused(&spliced);
    }
}

/// A photo large enough to take the scaled JPEG decoder (twice the stored size), made once.
fn large_jpeg() -> &'static [u8] {
    static LARGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    LARGE.get_or_init(|| encode_jpeg(&document_pixels(4000, 3000), None))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_large_jpeg_with_flipped_bits_never_panics(flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..24)) {
        let mut bytes = large_jpeg().to_vec();
        for (at, bit) in flips {
            // Mostly in the headers and the first scans, where the decoder's choices are made.
            let at = at % (bytes.len() / 8);
            bytes[at] ^= 1 << bit;
        }
        assert_clean_or_refused(&bytes);
    }
}
