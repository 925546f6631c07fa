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
use pizza::order_move::{fields, reason, serve_move};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], cancel).await
}

fn cancel(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let why = token.unless_revoked(&Db::connect()?, fields(req).and_then(|f| reason(&f)));
    serve_move(
        req,
        &token,
        State::Cancelled,
        Actor::Member,
        why?.as_deref(),
    )
}
