//! `GET /api/admin/audit/?cursor=&limit=` with an admin's Bearer token → 200
//! `{entries: [{audit_id, at, actor, action, subject, before, after}],
//! next_cursor}`: every admin change (prices, sold-out pizzas, branches,
//! roles, token cutoffs, replays), newest first, for the web console.
//!
//! `cursor`: 0 (the newest) or the last page's `next_cursor`, an audit id;
//! the page holds the entries below it. `limit`: 1 to 100 (50). 400 for
//! anything else; 401 without a valid, unrevoked token; 403 for anyone but
//! an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::paging::PageQuery;
use pizza::store::admin::console as store;
use serde_json::{Value, json};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], audit).await
}

fn audit(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let page = token.unless_revoked(&db, parse(req, &token))?;
    let found = store::audit(&db, token.verified(), page.cursor, page.limit)?.granted()?;
    let mut entries = match found {
        Value::Array(entries) => entries,
        _ => Vec::new(),
    };
    let next_cursor = page.cut(&mut entries, |e| e["audit_id"].as_i64().unwrap_or(0));
    ok(&json!({"entries": entries, "next_cursor": next_cursor}))
}

/// The page asked for, by an admin.
fn parse(req: &Req, token: &SignedToken) -> Result<PageQuery, ApiError> {
    token.roles().require_admin()?;
    let cursor = req.query_param("cursor");
    let limit = req.query_param("limit");
    PageQuery::parse(cursor.as_deref(), limit.as_deref(), "an audit id")
}
