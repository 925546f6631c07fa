//! `POST /api/order/{id}/cancel/` with a Bearer token, `If-Match: "<version>"`
//! and an optional `{reason}` → 200 `{order_id, state: "cancelled", version}`.
//!
//! The member who placed the order may cancel it while it is `placed`;
//! after that only the branch's staff can (`/transition/`). Another
//! member's order is 404. The answers of every refusal are in
//! `pizza::order_move`.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, serve};
use pizza::order::lifecycle::{Actor, State};
use pizza::order_move::{Target, fields, reason, serve_move};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], cancel).await
}

fn cancel(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (target, why) = token.unless_revoked(&db, parse(req))?;
    let (to, by) = (State::Cancelled, Actor::Member);
    serve_move(req, &db, &token, target, to, by, why.as_deref())
}

/// The order, the version the member saw, and why.
fn parse(req: &Req) -> Result<(Target, Option<String>), ApiError> {
    Ok((Target::from_request(req)?, reason(&fields(req)?)?))
}
