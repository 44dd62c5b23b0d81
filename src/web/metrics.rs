//! Metrics in Prometheus' text format, on their own address (`TRANSFER_DESK_METRICS_ADDRESS`)
//! so that they are never public. Counters and the intake histogram are recorded where things
//! happen; the gauges (requests by state, queue, backlogs) are read from the database at each
//! scrape. No personal data or token is ever a label.

use chrono::Utc;
use entities::{deletion, document, outbox_mail, request};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::workflow::rules;
use crate::workflow::services::Services;
use crate::workflow::{state, RequestState};

use crate::platform::meters::INTAKE_SECONDS;

/// Rocket's template engine reports a template that cannot be rendered only through the
/// `log` crate, whose output Rocket's own logger would print with request paths (which carry
/// tracking tokens). This forwards the template engine's errors, and nothing else, to the
/// service's log.
struct TemplateErrors;

impl log::Log for TemplateErrors {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
            && metadata.target().starts_with("rocket_dyn_templates")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            tracing::error!(target: "templates", "{}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Sends the template engine's errors to the log (see [`TemplateErrors`]); call once, before
/// Rocket starts (Rocket then leaves the `log` crate alone).
pub fn log_template_errors() {
    if log::set_boxed_logger(Box::new(TemplateErrors)).is_ok() {
        log::set_max_level(log::LevelFilter::Error);
    }
}

/// Installs the process-wide recorder; `None` if one is installed already.
pub fn install() -> Option<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(INTAKE_SECONDS.to_owned()),
            &[0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
        )
        .ok()?
        .install_recorder()
        .ok()
}

async fn read_gauges(services: &Services) -> Result<(), DbErr> {
    let db = &services.db;
    let by_state: Vec<(RequestState, i64)> = request::Entity::find()
        .select_only()
        .column(request::Column::State)
        .column_as(request::Column::Id.count(), "count")
        .group_by(request::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    use sea_orm::Iterable;
    for state in RequestState::iter() {
        let count = by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n);
        let name = sea_orm::ActiveEnum::to_value(&state);
        ::metrics::gauge!("transfer_desk_requests", "state" => name).set(count as f64);
    }
    let queue = request::Entity::find()
        .filter(state::claimable())
        .count(db)
        .await?;
    ::metrics::gauge!("transfer_desk_queue_length").set(queue as f64);
    let oldest = request::Entity::find()
        .filter(state::pending())
        .order_by_asc(request::Column::CreatedAt)
        .one(db)
        .await?
        .map_or(0.0, |r| {
            (Utc::now() - r.created_at).num_seconds().max(0) as f64
        });
    ::metrics::gauge!("transfer_desk_oldest_pending_seconds").set(oldest);
    let documents = document::Entity::find()
        .filter(rules::live_documents())
        .count(db)
        .await?;
    ::metrics::gauge!("transfer_desk_documents_stored").set(documents as f64);
    let shred_backlog = deletion::Entity::find().count(db).await?;
    ::metrics::gauge!("transfer_desk_shred_backlog").set(shred_backlog as f64);
    let outbox = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::SentAt.is_null())
        .filter(outbox_mail::Column::FailedAt.is_null())
        .count(db)
        .await?;
    ::metrics::gauge!("transfer_desk_outbox_backlog").set(outbox as f64);
    Ok(())
}

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot install the metrics recorder (one is installed already)")]
    Recorder,
    #[error("cannot listen on TRANSFER_DESK_METRICS_ADDRESS {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the metrics endpoint cannot start: {0}")]
    Rocket(String),
}

/// Prepares `GET /metrics` on `address`: the recorder is installed, the address is free and
/// the server is ignited (with the release profile's checks), so that every failure is a
/// start-up error. The returned server is launched by the caller.
pub async fn prepare(
    services: Services,
    address: std::net::SocketAddr,
) -> Result<rocket::Rocket<rocket::Ignite>, MetricsError> {
    let handle = install().ok_or(MetricsError::Recorder)?;
    // Rocket 0.5 binds only at launch: find out now whether the address can be had.
    std::net::TcpListener::bind(address)
        .map_err(|source| MetricsError::Bind { address, source })?;
    // This server sets no cookie, but the `secrets` feature makes a release build refuse to
    // start without a key: it gets a random one of its own.
    let secret = crate::platform::crypto::random_bytes::<64>()
        .map_err(|error| MetricsError::Rocket(error.to_string()))?;
    let figment = rocket::Config::figment()
        .merge(("address", address.ip()))
        .merge(("port", address.port()))
        .merge(("secret_key", secret.to_vec()))
        .merge(("log_level", rocket::config::LogLevel::Off))
        .merge(("cli_colors", false));
    rocket::custom(figment)
        .manage(handle)
        .manage(services)
        .mount("/", rocket::routes![metrics_text])
        .attach(rocket::fairing::AdHoc::on_liftoff(
            "metrics address",
            |rocket| {
                Box::pin(async move {
                    let config = rocket.config();
                    tracing::info!(
                        "metrics at http://{}:{}/metrics",
                        config.address,
                        config.port
                    );
                })
            },
        ))
        .ignite()
        .await
        .map_err(|error| MetricsError::Rocket(error.to_string()))
}

/// Serves the prepared metrics endpoint until the process ends.
pub async fn serve(server: rocket::Rocket<rocket::Ignite>) {
    if let Err(error) = server.launch().await {
        tracing::error!(%error, "the metrics endpoint stopped");
    }
}

#[rocket::get("/metrics")]
async fn metrics_text(
    handle: &rocket::State<PrometheusHandle>,
    services: &rocket::State<Services>,
) -> (rocket::http::ContentType, String) {
    if let Err(error) = read_gauges(services).await {
        tracing::warn!(%error, "cannot read the metrics from the database");
    }
    let text_format =
        rocket::http::ContentType::new("text", "plain").with_params(("version", "0.0.4"));
    (text_format, handle.render())
}
