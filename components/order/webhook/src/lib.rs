//! `POST /api/order/payments/webhook/`: the payment provider tells of an
//! outcome (`payment_intent.succeeded`, `payment_intent.payment_failed`,
//! `refund.updated`), signed with HMAC-SHA256 over timestamp and body in
//! the `webhook-signature` header (`pizza::payments::signature`).
//!
//! - 200 `{"received": true}`: the event is in the outbox for the relay
//!   (once: the same outcome from the relay's own call, or a redelivery,
//!   is the same event). Events the shop does not act on are acknowledged.
//! - 400 for a bad signature, one older than 5 minutes, a signature seen
//!   before (a replay), or a body that is not an event.

use pizza::ApiError;
use pizza::config::{now_secs, variable};
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::payments::provider::{SIGNATURE_HEADER, notice};
use pizza::payments::{saga, signature};
use pizza::store::payment as store;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], receive).await
}

fn receive(req: &Req) -> Result<Response, ApiError> {
    let secret = variable("payment_webhook_secret")?;
    let header = req
        .header(SIGNATURE_HEADER)
        .filter(|h| h.len() <= 200)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{SIGNATURE_HEADER}`: one header of at most 200 bytes is required"
            ))
        })?;
    let signed_at = signature::verify(secret.as_bytes(), header, &req.body, now_secs())
        .map_err(|invalid| ApiError::bad_request(invalid.message()))?;
    let notice = notice(&req.body).map_err(ApiError::bad_request)?;
    let reported = saga::reported(&notice);
    let delivery = signature::delivery_id(signed_at, &req.body);
    if !store::receive(&Db::connect()?, &delivery, reported.as_ref())? {
        return Err(ApiError::bad_request(
            "this signed delivery was received before: a replay",
        ));
    }
    Ok(json_response(200, &serde_json::json!({"received": true})))
}
