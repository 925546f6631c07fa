//! `POST /api/admin/outbox/{event_id}/replay/` with an admin's Bearer token
//! → 200 `{event_id, replayed: true}`: a dead-lettered saga event goes back
//! to the relay, due now with its tries counted afresh. One statement does
//! it with its audit row and an `outbox.replayed` event. The step is
//! idempotent, so a replay never charges or refunds twice.
//!
//! 404 when no dead-lettered event has this id; 401 without a valid,
//! unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin as store;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], replay).await
}

fn replay(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    token.unless_revoked(&db, token.roles().require_admin())?;
    let no_event = || ApiError::not_found("no dead-lettered event by this id");
    let event_id = req
        .path_param("event_id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(no_event)?;
    if !store::replay_dead_letter(&db, token.verified(), event_id)?.granted()? {
        return Err(no_event());
    }
    ok(&json!({"event_id": event_id, "replayed": true}))
}
