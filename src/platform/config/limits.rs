//! How much the service takes on: memory for decoding photos, uploads at once and their pace,
//! submissions an hour and a day, documents read by OCR at once.

use super::values::{number, parse_size};
use super::{invalid, ConfigError, Settings, Vars};

/// How fast and how long an upload may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadPace {
    /// Bytes a second an upload must average once a short grace has passed.
    pub min_bytes_per_second: u64,
    /// The most a whole body may take.
    pub deadline: std::time::Duration,
}
impl Default for UploadPace {
    fn default() -> Self {
        UploadPace {
            min_bytes_per_second: 2048,
            deadline: std::time::Duration::from_secs(600),
        }
    }
}

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    let one_to_sixteen: fn(&usize) -> bool = |n| (1..=16).contains(n);
    for (name, slots) in [
        ("TRANSFER_DESK_OCR_SLOTS", &mut settings.ocr_slots),
        (
            "TRANSFER_DESK_UPLOADS_PER_CLIENT",
            &mut settings.uploads_per_client,
        ),
    ] {
        if let Some(n) = number(name, var(name), one_to_sixteen, "1 to 16")? {
            *slots = n;
        }
    }
    if let Some(v) = var("TRANSFER_DESK_DECODE_MEMORY") {
        settings.decode_memory_bytes = parse_size(&v)
            .filter(|n| *n >= 64 * 1024 * 1024)
            .ok_or_else(|| invalid("TRANSFER_DESK_DECODE_MEMORY must be a size of at least 64 MiB, e.g. 512MiB or 1GiB"))?;
    }
    let any: fn(&u32) -> bool = |_| true;
    for (name, limit) in [
        (
            "TRANSFER_DESK_SUBMISSIONS_PER_HOUR",
            &mut settings.submissions_per_hour,
        ),
        (
            "TRANSFER_DESK_SUBMISSIONS_PER_DOMAIN_PER_DAY",
            &mut settings.submissions_per_domain_per_day,
        ),
    ] {
        if let Some(n) = number(name, var(name), any, "a whole number (0 for no limit)")? {
            *limit = n;
        }
    }
    if let Some(v) = var("TRANSFER_DESK_UPLOAD_MIN_RATE") {
        settings.upload_pace.min_bytes_per_second = parse_size(&v)
            .filter(|n| *n >= 1)
            .ok_or_else(|| invalid("TRANSFER_DESK_UPLOAD_MIN_RATE must be a size a second of at least 1 byte, e.g. 2KiB"))?;
    }
    let name = "TRANSFER_DESK_UPLOAD_DEADLINE_SECONDS";
    let ten_to_3600: fn(&u64) -> bool = |s| (10..=3600).contains(s);
    if let Some(s) = number(name, var(name), ten_to_3600, "10 to 3600 seconds")? {
        settings.upload_pace.deadline = std::time::Duration::from_secs(s);
    }
    Ok(())
}
