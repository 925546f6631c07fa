//! `POST /api/order/{id}/transition/` with a Bearer token, `If-Match:
//! "<version>"` and `{to, reason}` → 200 `{order_id, state, version}`.
//!
//! For the staff of the order's branch and for admins: `placed` → `accepted`
//! → `baking` → `ready` → `completed`, and `cancelled` (with a reason) before
//! it is ready (`pizza::order::lifecycle`). A member's token is 403, so is
//! staff of another branch. The answers of every refusal are in
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
    serve(request, &[Method::Post], transition).await
}

fn transition(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (target, to, why) = token.unless_revoked(&db, parse(req, &token))?;
    serve_move(req, &db, &token, target, to, Actor::Staff, why.as_deref())
}

/// The order, the version seen, where to and why, from a staff member's or
/// admin's request.
fn parse(req: &Req, token: &SignedToken) -> Result<(Target, State, Option<String>), ApiError> {
    token.roles().require_staff()?;
    let target = Target::from_request(req)?;
    let fields = fields(req)?;
    let to = fields.required_str("to")?;
    let to =
        State::parse(to).ok_or_else(|| ApiError::bad_request(format!("`to`: no state {to:?}")))?;
    Ok((target, to, reason(&fields)?))
}
