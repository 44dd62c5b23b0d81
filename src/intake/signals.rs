//! Fraud-relevant facts about an original upload, kept after its bytes are dropped.

use exif::{In, Tag};

use super::sniff::AcceptedFormat;

/// Longest side, in pixels, under which a photo is too small to check a document well.
const LOW_RESOLUTION_LONGEST_SIDE: u32 = 1000;

#[rustfmt::skip]
/// Common screen sizes (shorter side, longer side) of phones, tablets and monitors.
const SCREEN_SIZES: &[(u32, u32)] = &[
    (720, 1280), (720, 1600), (750, 1334), (768, 1024), (768, 1366), (800, 1280),
    (828, 1792), (864, 1536), (900, 1440), (900, 1600), (1050, 1680), (1080, 1920),
    (1080, 2220), (1080, 2340), (1080, 2400), (1125, 2436), (1170, 2532), (1179, 2556),
    (1200, 1920), (1242, 2208), (1242, 2688), (1284, 2778), (1290, 2796), (1440, 2560),
    (1440, 2960), (1440, 3088), (1440, 3200), (1536, 2048), (1600, 2560), (1640, 2360),
    (1668, 2388), (1800, 2880), (1964, 3024), (2048, 2732), (2160, 3840), (2234, 3456),
];

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Signals {
    pub original_format: String,
    pub original_width: u32,
    pub original_height: u32,
    /// The EXIF `Software` tag, when an editor or app left one.
    pub editing_software: Option<String>,
    /// Camera make and model, when the photo has them.
    pub camera: Option<String>,
    pub no_camera_data: bool,
    pub screenshot_like: bool,
    pub low_resolution: bool,
    /// Size, brightness and sharpness, measured on the decoded photo (older documents have
    /// none).
    #[serde(default)]
    pub quality: Option<super::Quality>,
    /// What the machine-readable zone showed, once it was read (none before, and for
    /// documents without one).
    #[serde(default)]
    pub zone: Option<ZoneSignals>,
}

/// The outcome of reading a document's machine-readable zone: only which signals fired,
/// never what the zone says (that is sealed with the document and shredded with it).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZoneSignals {
    /// A check digit fails: the zone was altered, or misread.
    pub check_digits_fail: bool,
    /// The document's expiry date is before the day it was read.
    pub expired: bool,
    /// The zone's name is not the name the requester typed.
    pub name_differs_from_requester: bool,
    /// The zone's name is not the registrant's on file (checked where the person should be
    /// the registrant).
    pub name_differs_from_registrant: bool,
    /// The requester said passport or identity card, and the zone says otherwise.
    pub type_differs: bool,
    /// The requester said passport or identity card, and no photo of it shows a zone.
    pub not_found: bool,
    /// Reading the zone was begun twice and never finished (the service stopped during it,
    /// as a photo built to exhaust its memory makes it): the photo is not read again.
    #[serde(default)]
    pub reading_interrupted: bool,
    /// The requester said passport or identity card, and no zone of it was read: the OCR
    /// program failed on a photo of it (and found none on the others).
    #[serde(default)]
    pub not_read: bool,
}

impl ZoneSignals {
    fn fired(&self) -> usize {
        [
            self.check_digits_fail,
            self.expired,
            self.name_differs_from_requester,
            self.name_differs_from_registrant,
            self.type_differs,
            self.not_found,
            self.reading_interrupted,
            self.not_read,
        ]
        .into_iter()
        .filter(|fired| *fired)
        .count()
    }
}

impl Signals {
    pub fn observe(format: AcceptedFormat, width: u32, height: u32, exif: Option<&[u8]>) -> Self {
        let parsed = exif.and_then(|raw| exif::Reader::new().read_raw(raw.to_vec()).ok());
        let text = |tag| parsed.as_ref().and_then(|e| ascii_field(e, tag));
        let camera = match (text(Tag::Make), text(Tag::Model)) {
            (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
            (Some(make), Some(model)) => Some(format!("{make} {model}")),
            (make, model) => make.or(model),
        };
        let (short, long) = (width.min(height), width.max(height));
        Self {
            original_format: format!("{format:?}").to_lowercase(),
            original_width: width,
            original_height: height,
            editing_software: text(Tag::Software),
            no_camera_data: camera.is_none(),
            camera,
            screenshot_like: SCREEN_SIZES.contains(&(short, long)),
            low_resolution: long < LOW_RESOLUTION_LONGEST_SIDE,
            quality: None,
            zone: None,
        }
    }

    /// How many of the signals fired; reviewers see this in the queue.
    pub fn fired(&self) -> usize {
        [
            self.editing_software.is_some(),
            self.no_camera_data,
            self.screenshot_like,
            self.low_resolution,
        ]
        .into_iter()
        .filter(|fired| *fired)
        .count()
            + self.zone.as_ref().map_or(0, ZoneSignals::fired)
    }
}

fn ascii_field(exif: &exif::Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let exif::Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let joined: String = parts
        .iter()
        .map(|part| String::from_utf8_lossy(part))
        .collect::<Vec<_>>()
        .join(" ");
    let cleaned: String = joined
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_sized_png_without_camera_data_looks_like_a_screenshot() {
        let s = Signals::observe(AcceptedFormat::Png, 1170, 2532, None);
        assert!(s.screenshot_like && s.no_camera_data && !s.low_resolution);
        assert_eq!(s.fired(), 2);
    }

    #[test]
    fn a_small_photo_is_low_resolution() {
        let s = Signals::observe(AcceptedFormat::Jpeg, 640, 480, None);
        assert!(s.low_resolution);
        assert!(!s.screenshot_like);
    }

    #[test]
    fn garbage_exif_is_ignored_not_fatal() {
        let s = Signals::observe(AcceptedFormat::Jpeg, 4000, 3000, Some(b"not a tiff header"));
        assert!(s.no_camera_data);
        assert_eq!(s.editing_software, None);
    }
}
