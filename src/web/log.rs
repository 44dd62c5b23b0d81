//! What the audit log shows the world, so that its checkpoints can be kept elsewhere and
//! checked: the latest signed checkpoint and the log's public key.

use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use super::error::Error;
use crate::evidence::log;
use crate::workflow::services::Services;

pub fn routes() -> Vec<Route> {
    routes![checkpoint, consistency, log_key, log_key_pem]
}

#[get("/.well-known/transfer-desk/checkpoint")]
async fn checkpoint(services: &State<Services>) -> Result<(ContentType, String), Error> {
    let latest = log::latest_checkpoint(&services.db)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((ContentType::Plain, latest.note))
}

/// For a witness that kept the checkpoint of `from` events: the proof that it is a prefix
/// of the latest checkpoint, which follows.
#[get("/.well-known/transfer-desk/consistency/<from>")]
async fn consistency(
    from: u64,
    services: &State<Services>,
) -> Result<(ContentType, String), Error> {
    use base64::Engine;
    let (latest, proof) = log::consistency(&services.db, from)
        .await?
        .ok_or(Error::NotFound)?;
    let mut text = format!(
        "transfer-desk audit consistency proof v1\nfrom {from}\nto {}\n",
        latest.size
    );
    for hash in proof {
        let hash = base64::engine::general_purpose::STANDARD.encode(hash);
        text.push_str(&format!("proof {hash}\n"));
    }
    text.push_str("\nThe signed checkpoint:\n");
    text.push_str(&latest.note);
    Ok((ContentType::Plain, text))
}

/// The key pinned outside the database, never one the database holds unpinned: a key put
/// there by a database writer is not what the world is told to check with.
fn key(services: &Services) -> Result<&crate::platform::config::log_key::PublicLogKey, Error> {
    services.log_key.as_ref().ok_or(Error::NotFound)
}

/// The key as signed-note verifiers take it (`name+keyid+base64`).
#[get("/.well-known/transfer-desk/log-key")]
async fn log_key(services: &State<Services>) -> Result<(ContentType, String), Error> {
    Ok((
        ContentType::Plain,
        format!("{}\n", key(services)?.verifier_key()),
    ))
}

/// The key as PEM, for `openssl pkeyutl -verify`.
#[get("/.well-known/transfer-desk/log-key.pem")]
async fn log_key_pem(services: &State<Services>) -> Result<(ContentType, String), Error> {
    Ok((ContentType::Plain, key(services)?.pem()))
}
