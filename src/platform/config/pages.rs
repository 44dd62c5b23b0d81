//! How pages and mails read: the host's own templates, the time zone times are shown in, and
//! the language of mails to registrants whose portfolio row names none.

use std::path::PathBuf;

use super::{invalid, ConfigError, Settings, Vars};

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    settings.templates_dir = var("TRANSFER_DESK_TEMPLATES_DIR").map(PathBuf::from);
    if let Some(code) = var("TRANSFER_DESK_DEFAULT_LANGUAGE") {
        settings.default_language = crate::platform::i18n::Lang::from_code(code.trim())
            .ok_or_else(|| invalid("TRANSFER_DESK_DEFAULT_LANGUAGE must be en, fr, de or it"))?;
    }
    if let Some(zone) = var("TRANSFER_DESK_TIME_ZONE") {
        settings.time_zone = zone.trim().parse().map_err(|_| {
            invalid("TRANSFER_DESK_TIME_ZONE must be an IANA time zone such as Europe/Zurich")
        })?;
    }
    Ok(())
}
