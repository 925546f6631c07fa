//! `GET /api/order/{id}/` with a Bearer token → 200, one order with its
//! lines, state, history, version and the states the asker may move it to;
//! its version is the `ETag`.
//!
//! - The member sees their own orders; staff see their branches' orders and
//!   admins every order. Any other order is 404, never 403.
//! - `?after=<version>`: live status. When the order is still at that
//!   version the request waits (`pizza::order::watch`) and answers at the
//!   first change, or after 25 s with 304.
//! - 401 `{"detail": "unauthorized"}` without a valid, unrevoked token.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::order::lifecycle::Actor;
use pizza::order::view::{OrderView, etag};
use pizza::order::watch::{Watched, parse_after, wait_for_change};
use pizza::order_move::{no_such_order, order_id};
use pizza::store::order::lifecycle as store;
use pizza::token::VerifiedToken;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], detail).await
}

fn detail(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (order_id, after) = token.unless_revoked(&db, parse(req))?;
    let viewer = token.verified();
    let mut order = read(&db, order_id, viewer)?;
    drop(db);
    if after == Some(order.version) {
        // Each look takes a pooled connection for one statement only.
        let version = || store::order_version(&Db::connect()?, order_id).map_err(ApiError::from);
        match wait_for_change(order.version, version, std::thread::sleep)? {
            Watched::Changed(_) => order = read(&Db::connect()?, order_id, viewer)?,
            Watched::Unchanged => return Ok(not_modified(order.version)),
        }
    }
    let mut answer = json_response(200, &order);
    answer.set_header("etag", etag(order.version));
    answer.set_header("cache-control", "no-store");
    Ok(answer)
}

/// The order id and `?after=`.
fn parse(req: &Req) -> Result<(i32, Option<i64>), ApiError> {
    Ok((
        order_id(req)?,
        parse_after(req.query_param("after").as_deref())?,
    ))
}

/// The order as `viewer` may see it, or 404.
fn read(db: &Db, order_id: i32, viewer: &VerifiedToken) -> Result<OrderView, ApiError> {
    let order = store::order_view(db, order_id, viewer)?
        .granted()?
        .ok_or_else(no_such_order)?;
    let mut actors = Vec::new();
    if order.member_id == viewer.member_id {
        actors.push(Actor::Member);
    }
    if viewer.roles.runs_branch(&order.bran_id) {
        actors.push(Actor::Staff);
    }
    Ok(order.for_actors(&actors))
}

/// 304: still at `version` after the longest wait.
fn not_modified(version: i64) -> Response {
    Response::builder()
        .status(304)
        .header("etag", etag(version))
        .header("cache-control", "no-store")
        .build()
}
