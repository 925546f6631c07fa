//! Readiness: `GET` → 200 `{"status": "ok"}` when every database this component
//! instance is configured for answers `SELECT 1`, else 503 naming the failures.
//!
//! One wasm serves several manifest components: each service's readiness
//! component (`login-healthz`, ...) declares only its own `<service>_db_url`
//! variable and so checks only its own role's connection; the app-wide
//! `healthz` declares all four.

use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::{ApiError, config};
use serde_json::{Map, Value, json};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// The database variables a readiness component may declare.
const DATABASES: [&str; 4] = [
    "login_db_url",
    "menu_db_url",
    "order_db_url",
    "admin_db_url",
];

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], ready).await
}

fn ready(_req: &Req) -> Result<Response, ApiError> {
    let mut checks = Map::new();
    let mut all_ok = true;
    for name in DATABASES {
        let Some(url) = config::optional_variable(name) else {
            continue;
        };
        let ok = Db::open(&url)
            .and_then(|db| db.query("SELECT 1", &[]))
            .is_ok();
        all_ok &= ok;
        let service = name.trim_end_matches("_db_url");
        checks.insert(
            service.to_owned(),
            Value::from(if ok { "ok" } else { "unavailable" }),
        );
    }
    let status = if all_ok { 200 } else { 503 };
    let state = if all_ok { "ok" } else { "unavailable" };
    Ok(json_response(
        status,
        &json!({ "status": state, "checks": checks }),
    ))
}
