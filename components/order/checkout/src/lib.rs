//! `POST /api/order/cart/checkout/` with a Bearer token, an
//! `Idempotency-Key` and `{payment_method}` → 201 `{order_id, total,
//! message, state: "payment_pending"}`.
//!
//! One statement places the cart's lines as an order at today's prices
//! (state `payment_pending`, payment attempt 1), empties the cart, and
//! writes the `order.placed` event from which the relay takes the payment
//! (`pizza::payments::saga`). The member watches the order
//! (`GET /api/order/{id}/?after=`) go `paid`, or `payment_failed`.
//!
//! - The key is required (400 without): a replay gets the first answer,
//!   even after the cart was emptied; the same key with another
//!   `payment_method` gets 422.
//! - 409 for an empty cart, or one that changed while it was checked out
//!   (nothing is written: a cart is never checked out twice).
//! - The order's own refusals are those of `POST /api/order/` (400 for a
//!   closed branch or a sold-out line, 429 past the member's limit).

use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::idempotency::{self, Claim, Fingerprint, Write};
use pizza::order::{PlacedOrder, check_member_may_order};
use pizza::payments::check_method;
use pizza::store::cart;
use pizza::store::order::{self as store, Checkout, Placement};
use pizza::{ApiError, config, placement};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], checkout).await
}

fn checkout(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (method, claim) = token.unless_revoked(&db, parse(req, &token))?;
    let placed = idempotency::respond_once(
        Some(&claim),
        |claim| Ok(store::stored_placement(&db, token.member_id(), claim)?),
        |claim| placement::noted(req, place(&db, &token, &method, claim)),
    )?;
    let mut body = placed.body();
    body["state"] = "payment_pending".into();
    Ok(json_response(201, &body))
}

/// The payment method and the key's claim, or why they are refused.
fn parse(req: &Req, token: &SignedToken) -> Result<(String, Claim), ApiError> {
    check_member_may_order(token.member_id())?;
    let fields = req.fields()?;
    let method = fields.required_str("payment_method")?.to_owned();
    check_method(&method)?;
    let fingerprint = || Fingerprint::of(&serde_json::json!(["checkout", method]));
    let claim = Claim::from_header(req.header("idempotency-key"), fingerprint)?
        .ok_or_else(|| ApiError::bad_request("`Idempotency-Key` header is required"))?;
    Ok((method, claim))
}

/// Places the cart as it is now; an empty cart is the answer stored under
/// the key (a replay after the cart was emptied), or 409.
fn place<'c>(
    db: &Db,
    token: &SignedToken,
    method: &str,
    claim: Option<&'c Claim>,
) -> Result<Write<'c, PlacedOrder>, ApiError> {
    let claim = claim.ok_or_else(|| ApiError::internal("checkout without a claim"))?;
    let cart = cart::cart(db, token.verified())?.granted()?;
    // No lines, or lines checked out meanwhile: perhaps by this key's first request.
    let replay_or = |refusal: &str| match store::stored_placement(db, token.member_id(), claim)? {
        Some(stored) => Ok(Write::Answered(claim.answered(stored))),
        None => Err(ApiError::conflict(refusal)),
    };
    let Some(order) = cart.order() else {
        return replay_or("the cart is empty");
    };
    let currency = config::variable("payment_currency")?;
    let checkout = Checkout {
        cart_version: cart.version,
        method,
        currency: &currency,
    };
    let (placement, zone) = placement::place(db, token, &order, Some(claim), Some(checkout))?;
    match placement {
        Placement::CartChanged => {
            replay_or("the cart changed while it was checked out; read it again")
        }
        placement => placement::answer(placement, &order, &zone),
    }
}
