//! `PATCH /api/admin/menu/{pizza_id}/` with an admin's Bearer token and
//! `{price?, sold_out?}` → 200 `{pizza_id, price, sold_out}`.
//!
//! New orders pay the new price; placed orders keep the price they captured.
//! A sold-out pizza leaves `GET /api/menu/` (whose ETag changes with every
//! catalogue change) and gets 400 on order until it is back. One statement
//! changes the pizza and writes the audit row and a `catalog.updated` event.
//! 401 without a valid, unrevoked token; 403 for anyone but an admin; 404
//! for an unknown pizza.

use pizza::ApiError;
use pizza::admin::PizzaChange;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin as store;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Patch], change).await
}

fn change(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let change = token.unless_revoked(&db, parse(req, &token))?;
    let pizza_id = req.path_param("pizza_id").unwrap_or_default();
    let pizza = store::change_pizza(&db, token.verified(), pizza_id, &change)?.granted()?;
    ok(&pizza.ok_or_else(|| ApiError::not_found(format!("no pizza {pizza_id:?}")))?)
}

fn parse(req: &Req, token: &SignedToken) -> Result<PizzaChange, ApiError> {
    token.roles().require_admin()?;
    PizzaChange::parse(&req.fields()?)
}
