//! `GET /api/admin/outbox/dead/?cursor=&limit=` with an admin's Bearer
//! token → 200 `{events: [{event_id, event_type, aggregate_id, payload,
//! attempts, last_error, dead_at}], next_cursor}`: the saga events the relay
//! gave up on after `relay_max_attempts` tries, oldest first, for an admin
//! to look into and replay (`…/{event_id}/replay/`).
//!
//! `cursor`: an event id, 0 or more (the last page's `next_cursor`);
//! `limit`: 1 to 100 (50). 400 for anything else; 401 without a valid,
//! unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::paging::PageQuery;
use pizza::store::admin as store;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], dead_letters).await
}

fn dead_letters(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let page = token.unless_revoked(&db, parse(req, &token))?;
    let mut events =
        store::dead_letters(&db, token.verified(), page.cursor, page.limit)?.granted()?;
    let next_cursor = page.cut(&mut events, |e| e.event_id);
    ok(&json!({"events": events, "next_cursor": next_cursor}))
}

/// The page asked for, by an admin.
fn parse(req: &Req, token: &SignedToken) -> Result<PageQuery, ApiError> {
    token.roles().require_admin()?;
    let cursor = req.query_param("cursor");
    let limit = req.query_param("limit");
    PageQuery::parse(cursor.as_deref(), limit.as_deref(), "an event id")
}
