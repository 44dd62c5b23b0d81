//! Where the service answers: its public URL, the host names it answers to, the proxies it
//! believes, and the separate address of its metrics.

use super::{invalid, ConfigError, Settings, Vars};

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    settings.public_url =
        var("TRANSFER_DESK_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
    if let Some(list) = var("TRANSFER_DESK_ALLOWED_HOSTS") {
        settings.allowed_hosts = list
            .split(',')
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
    }
    if let Some(address) = var("TRANSFER_DESK_METRICS_ADDRESS") {
        settings.metrics_address = Some(address.trim().parse().map_err(|_| {
            invalid(
                "TRANSFER_DESK_METRICS_ADDRESS must be an address and port, e.g. 127.0.0.1:9464",
            )
        })?);
    }
    if let Some(list) = var("TRANSFER_DESK_TRUSTED_PROXIES") {
        settings.trusted_proxies = list
            .split(',')
            .map(|ip| ip.trim().parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                invalid(
                    "TRANSFER_DESK_TRUSTED_PROXIES must be a comma-separated list of IP addresses",
                )
            })?;
    }
    Ok(())
}
