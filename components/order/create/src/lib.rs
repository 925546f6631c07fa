//! `POST /api/order/` with a Bearer token and `{branchId, lines: [{name,
//! size, quantity}]}` → 201 `{order_id, total, message}`.
//!
//! - 401 `{"detail": "unauthorized"}` without a valid, unrevoked token,
//!   checked before the body.
//! - 400 naming the offending field or line: an unknown branch, 0 or more
//!   than 50 lines, a name-and-size pair that is not on the menu, a quantity
//!   outside 1..=99.
//! - The order is placed by one SQL statement (see `pizza::store::order`):
//!   atomic, with unit prices, shop-time `date`/`time` and an outbox event.
//!   The same statement checks the token's revocation and finds an answer
//!   stored under the `Idempotency-Key`: one round trip per request.
//! - `Idempotency-Key`: a replay by the same member gets the original 201 and
//!   creates nothing; the same key with a different body gets 422; a
//!   duplicate still being placed by a concurrent request gets 409.
//! - 429 with `Retry-After` past `member_order_limit` (20) orders of one
//!   member in ten minutes.

use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::idempotency::{self, Claim, Write};
use pizza::order::{NewOrder, PlacedOrder, check_member_may_order};
use pizza::store::order as store;
use pizza::{ApiError, placement};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], create).await
}

fn create(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (order, claim) = token.unless_revoked(&db, parse(req, &token))?;
    let placed = idempotency::respond_once(
        claim.as_ref(),
        |claim| Ok(store::stored_placement(&db, token.member_id(), claim)?),
        |claim| placement::noted(req, place(&db, &token, &order, claim)),
    )?;
    Ok(json_response(201, &placed.body()))
}

/// The order and its idempotency claim, or why they are refused.
fn parse(req: &Req, token: &SignedToken) -> Result<(NewOrder, Option<Claim>), ApiError> {
    check_member_may_order(token.member_id())?;
    let order = NewOrder::parse(&req.fields()?)?;
    let claim = Claim::from_header(req.header("idempotency-key"), || order.fingerprint())?;
    Ok((order, claim))
}

/// Places the order in the shop's zone, or finds the answer stored under
/// its key; a branch or line that does not exist is 400.
fn place<'c>(
    db: &Db,
    token: &SignedToken,
    order: &NewOrder,
    claim: Option<&'c Claim>,
) -> Result<Write<'c, PlacedOrder>, ApiError> {
    let (placement, zone) = placement::place(db, token, order, claim, None)?;
    placement::answer(placement, order, &zone)
}
