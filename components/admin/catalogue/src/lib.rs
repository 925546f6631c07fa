//! `GET /api/admin/menu/` with an admin's Bearer token → 200 `{pizzas:
//! [{pizza_id, pizza_type_id, name, category, size, price, sold_out}]}`:
//! the whole catalogue, sold-out pizzas included (the public menu leaves
//! them out), for the web console's menu page. 401 without a valid,
//! unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin::console as store;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], catalogue).await
}

fn catalogue(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    token.unless_revoked(&db, token.roles().require_admin())?;
    let pizzas = store::catalogue(&db, token.verified())?.granted()?;
    ok(&json!({ "pizzas": pizzas }))
}
