//! Transfer Desk: identity-verified domain transfer-code requests.

pub mod accounts;
pub mod cli;
pub mod eid;
pub mod evidence;
pub mod intake;
pub mod mail;
pub mod platform;
pub mod registry;
pub mod web;
pub mod workflow;

use rocket::data::{Limits, ToByteUnit};
use rocket::{Build, Rocket};

pub use platform::config::Settings;
pub use workflow::services::{Services, StartError};

/// Upload limits; `Rocket.toml` or `ROCKET_LIMITS` may change them.
fn default_limits() -> Limits {
    Limits::default()
        .limit("data-form", 45.mebibytes())
        .limit("file", 20.mebibytes())
        .limit("string", 8.kibibytes())
}

/// Builds the whole application for `settings`: data directory, keys, database, routes.
pub async fn rocket(settings: Settings) -> Result<Rocket<Build>, StartError> {
    platform::i18n::set_time_zone(settings.time_zone);
    let (services, rocket_secret) = Services::start(settings).await?;
    let assets = platform::assets::unpack(
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
