//! `POST /api/order/{id}/pay/` with a Bearer token, an `Idempotency-Key`
//! and `{payment_method}` → 202 `{order_id, attempt, state:
//! "payment_pending"}`: the member pays again, another way, for their order
//! whose payment was declined (`payment_failed`).
//!
//! One statement starts the next attempt (the order back to
//! `payment_pending`, history, a `payment.requested` event for the relay).
//! The key is required (400 without); the same key on the same order gets
//! the same attempt back (422 with another `payment_method`). Another member's order is 404; an order that is
//! not `payment_failed` is 409 `{state, allowed}`.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::idempotency::IdempotencyKey;
use pizza::order::lifecycle::{Actor, State, next_states};
use pizza::order_move::{no_such_order, order_id};
use pizza::payments::check_method;
use pizza::store::payment::{self as store, Repaid};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], pay).await
}

fn pay(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (order_id, method, key) = token.unless_revoked(&db, parse(req))?;
    let key = key.as_str();
    let attempt =
        match store::pay_again(&db, token.verified(), order_id, &method, key)?.granted()? {
            Repaid::Started { attempt } => attempt,
            Repaid::NoSuchOrder => return Err(no_such_order()),
            Repaid::KeyReused => return Err(key_reused()),
            // A concurrent request with this key may have moved it.
            Repaid::Unmoved { state } => match store::attempt_by_key(&db, order_id, key)? {
                Some((attempt, used)) if used == method => attempt,
                Some(_) => return Err(key_reused()),
                None => return Err(not_payable(state)),
            },
        };
    Ok(json_response(
        202,
        &serde_json::json!({"order_id": order_id, "attempt": attempt, "state": State::PaymentPending}),
    ))
}

/// The order, the payment method and the key.
fn parse(req: &Req) -> Result<(i32, String, IdempotencyKey), ApiError> {
    let order_id = order_id(req)?;
    let method = req.fields()?.required_str("payment_method")?.to_owned();
    check_method(&method)?;
    let key = IdempotencyKey::from_header(req.header("idempotency-key"))?
        .ok_or_else(|| ApiError::bad_request("`Idempotency-Key` header is required"))?;
    Ok((order_id, method, key))
}

/// 422 for a key that started an attempt with another method.
fn key_reused() -> ApiError {
    ApiError::unprocessable("this Idempotency-Key was already used with a different request")
}

/// 409 for an order that cannot be paid again from `state`.
fn not_payable(state: State) -> ApiError {
    let allowed: Vec<&str> = next_states(state, Actor::Member)
        .iter()
        .map(|s| s.as_str())
        .collect();
    ApiError::conflict(format!(
        "an order that is {} cannot be paid again",
        state.as_str()
    ))
    .with_field("state", state.as_str())
    .with_field("allowed", allowed)
}
