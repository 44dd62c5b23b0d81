//! Identify an upload by its first bytes, never by its name or declared type.

use image::ImageFormat;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AcceptedFormat {
    Jpeg,
    Png,
    WebP,
}

impl AcceptedFormat {
    pub fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// The allow-list: JPEG, PNG and WebP by magic bytes; everything else is `None`.
pub fn sniff(bytes: &[u8]) -> Option<AcceptedFormat> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(AcceptedFormat::Jpeg)
    } else if bytes.starts_with(PNG) {
        Some(AcceptedFormat::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(AcceptedFormat::WebP)
    } else {
        None
    }
}

/// A PNG's width and height as its IHDR chunk declares them, read without decoding.
pub fn png_declared_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if sniff(bytes) != Some(AcceptedFormat::Png) || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let number = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((number(16)?, number(20)?))
}

/// Whether a JPEG's segments and scans run through to its end-of-image marker. Decoders
/// fill a truncated photo with grey instead of failing; a cut-off upload is refused here.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    loop {
        // Find the next marker: 0xFF followed by a code (0xFF fill bytes allowed).
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&code)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        at += 2;
        match code {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(at..at + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        if len < 2 {
            return false;
        }
        at += len;
        if code == 0xDA {
            // Entropy-coded data: skip stuffed 0xFF00 and restart markers.
            loop {
                let Some(next) = bytes.get(at..).and_then(|rest| memchr::memchr(0xFF, rest)) else {
                    return false;
                };
                at += next;
                match bytes.get(at + 1) {
                    Some(0x00 | 0xD0..=0xD7) => at += 2,
                    Some(_) => break,
                    None => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_jpeg() -> Vec<u8> {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&[120u8; 16 * 16 * 3], 16, 16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_every_cut_is_not() {
        let whole = tiny_jpeg();
        assert!(jpeg_is_complete(&whole));
        for cut in 0..whole.len() - 1 {
            assert!(!jpeg_is_complete(&whole[..cut]), "cut at {cut}");
        }
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"trailing bytes some phones append");
        assert!(jpeg_is_complete(&trailing));
    }

    #[test]
    fn recognises_the_three_accepted_formats() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(AcceptedFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(AcceptedFormat::Png)
        );
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(AcceptedFormat::WebP));
    }

    #[test]
    fn refuses_everything_else_whatever_its_name() {
        for bytes in [
            &b""[..],
            b"<html><script>alert(1)</script>",
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"%PDF-1.7\n",
            b"II*\0\x08\0\0\0",
            b"MM\0*\0\0\0\x08",
            b"GIF89a",
            b"RIFF\x10\0\0\0WAVEfmt ",
            b"\xFF\xD8",
        ] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }
}
