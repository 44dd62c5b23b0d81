//! For operators and load balancers: is the process alive, and can it serve? Nothing here
//! reveals data; both answer to any host name (a balancer probes by address).

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

use crate::workflow::services::Services;

pub fn routes() -> Vec<Route> {
    routes![healthz, readyz]
}

/// Paths the host check lets through whatever the `Host`.
pub const ANY_HOST_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Alive: the process answers.
#[get("/healthz")]
fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers, the master key is loaded, the document store is writable.
#[get("/readyz")]
async fn readyz(services: &State<Services>) -> (Status, Json<Value>) {
    let database = services.db.ping().await.is_ok();
    let store = services.store.probe().await.is_ok();
    let key = services.master_key.version() > 0;
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    let status = if database && store && key {
        Status::Ok
    } else {
        Status::ServiceUnavailable
    };
    (
        status,
        Json(json!({
            "database": word(database),
            "master_key": word(key),
            "document_store": word(store),
        })),
    )
}
