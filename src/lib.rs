//! Transfer Desk: identity-verified domain transfer-code requests.

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod audit_log;
pub mod backup;
pub mod cli;
pub mod codes;
pub mod config;
pub mod counters;
pub mod crypto;
pub mod db;
pub mod domains;
pub mod eid;
pub mod external;
pub mod i18n;
pub mod intake;
pub mod jobs;
pub mod jpeg;
pub mod keyring;
pub mod mail;
pub mod meters;
pub mod notices;
pub mod observe;
pub mod ocr;
pub mod reason;
pub mod registry;
pub mod services;
pub mod storage;
pub mod uid;
pub mod watermark;
pub mod web;
pub mod workflow;

use rocket::data::{Limits, ToByteUnit};
use rocket::{Build, Rocket};

pub use config::Settings;
pub use services::{Services, StartError};

/// Upload limits; `Rocket.toml` or `ROCKET_LIMITS` may change them.
fn default_limits() -> Limits {
    Limits::default()
        .limit("data-form", 45.mebibytes())
        .limit("file", 20.mebibytes())
        .limit("string", 8.kibibytes())
}

/// Builds the whole application for `settings`: data directory, keys, database, routes.
pub async fn rocket(settings: Settings) -> Result<Rocket<Build>, StartError> {
    i18n::set_time_zone(settings.time_zone);
    let (services, rocket_secret) = Services::start(settings).await?;
    let assets = assets::unpack(
        &services.settings.data_dir,
        services.settings.templates_dir.as_deref(),
    )
    .map_err(StartError::Assets)?;
    let figment = rocket::Config::figment()
        .merge(("template_dir", assets.templates.clone()))
        .join(("limits", default_limits()))
        // On SIGTERM, requests in flight (an upload on a slow line) get this long to finish.
        .join(("shutdown.grace", 30))
        .join(("shutdown.mercy", 5))
        .join(("secret_key", rocket_secret.as_str()))
        // Rocket's own log prints request paths, and paths carry tracking tokens: our
        // request log names route patterns instead.
        .merge(("log_level", rocket::config::LogLevel::Off))
        .merge(("cli_colors", false));
    Ok(web::mount(
        rocket::custom(figment).manage(services),
        &assets,
    ))
}
