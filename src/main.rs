use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[rocket::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object a line for log collectors; readable lines otherwise.
    if std::env::var("TRANSFER_DESK_LOG_FORMAT").is_ok_and(|f| f.trim() == "json") {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
    transfer_desk::web::metrics::log_template_errors();
    transfer_desk::cli::run(transfer_desk::cli::Cli::parse()).await
}
