//! `GET`/`PUT /api/order/cart/` with a Bearer token: the member's cart,
//! `{branchId, lines: [{name, size, quantity, unit_price, available}],
//! total, version}`, with its version as the `ETag`.
//!
//! - `GET`: the cart with today's prices (shown, not promised); a member
//!   who never filled one gets an empty cart at version 0.
//! - `PUT {branchId, lines: [{name, size, quantity}]}` replaces the whole
//!   cart, validated like an order (the lines may be empty). It needs
//!   `If-Match: "<version>"` (`"0"` for a new cart): 428 without, 412 with
//!   the current `ETag` when the cart changed since.
//! - 400 for an unknown branch or pizza; 401 without a valid, unrevoked token.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::cart::{CartContent, CartView, expected_version};
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::order::view::etag;
use pizza::placement::{unknown_branch, unknown_line};
use pizza::store::cart::{self as store, Saved};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get, Method::Put], cart).await
}

fn cart(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    if req.method == Method::Get {
        return Ok(answer(&store::cart(&db, token.verified())?.granted()?));
    }
    let (content, expected) = token.unless_revoked(&db, parse(req))?;
    match store::save(&db, token.verified(), &content, expected)?.granted()? {
        Saved::Done(cart) => Ok(answer(&cart)),
        Saved::UnknownBranch => Err(unknown_branch(&content.branch_id)),
        Saved::UnknownLine(i) => Err(unknown_line(i, &content.lines[i])),
        Saved::Stale { current } => Err(ApiError::precondition_failed(format!(
            "the cart changed: it is at version {current}, not {expected}"
        ))
        .with_header("etag", etag(current))
        .with_field("version", current)),
    }
}

/// The new cart and the version it replaces.
fn parse(req: &Req) -> Result<(CartContent, i64), ApiError> {
    let expected = expected_version(req.header("if-match"))?;
    Ok((CartContent::parse(&req.fields()?)?, expected))
}

fn answer(cart: &CartView) -> Response {
    let mut response = json_response(200, cart);
    response.set_header("etag", etag(cart.version));
    response.set_header("cache-control", "no-store");
    response
}
