//! The programs and peers the operator names: the registry (its command,
//! `TRANSFER_DESK_REGISTRY_COMMAND`, or its EPP account) and the OCR program
//! (`TRANSFER_DESK_OCR_COMMAND`).

use std::path::PathBuf;

use super::{invalid, ConfigError, Settings, Vars};

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    settings.registry_command = var("TRANSFER_DESK_REGISTRY_COMMAND");
    settings.epp = super::epp::from_vars(|name| var(name), settings.registry_command.is_some())
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    match var("TRANSFER_DESK_OCR_COMMAND").as_deref().map(str::trim) {
        None => {}
        Some("off") => settings.ocr_command = None,
        Some(program) => {
            settings.ocr_command = Some(on_path(program).ok_or_else(|| {
                invalid("TRANSFER_DESK_OCR_COMMAND must be off or an OCR program that exists (e.g. tesseract or /usr/bin/tesseract)")
            })?)
        }
    }
    Ok(())
}

/// `program` as a path: itself when it names a file, else the first executable of that name
/// in the directories of `PATH`.
pub(super) fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &std::path::Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| executable(path))
}
