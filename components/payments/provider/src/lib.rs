//! The provider component: the one component that talks to the payment
//! provider, reached only by chaining from the relay
//! (`http://payments-provider.spin.internal`). Its `allowed_outbound_hosts`
//! name the provider alone, and only it holds the provider's key.
//!
//! - `POST /pay` `PayRequest` → 200 `PayOutcome`: creates the attempt's
//!   intent and confirms it (or looks again at an intent made before);
//! - `POST /refund` `RefundRequest` → 200 `RefundOutcome`;
//! - 503 when the provider does not answer, answers 5xx, 409 or 429: the
//!   relay tries again later.
//!
//! The provider's API lives in `pizza::payments::provider`, the adapter.

use pizza::ApiError;
use pizza::config::variable;
use pizza::http::{Req, json_response, serve_async};
use pizza::outbound::call;
use pizza::payments::gateway::{PAY_PATH, PayOutcome, PayRequest, REFUND_PATH, RefundRequest};
use pizza::payments::provider::{
    Call, IntentReply, confirm_intent, create_intent, create_refund, intent_reply, refund_reply,
    retrieve_intent,
};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve_async(request, &[Method::Post], provider).await
}

async fn provider(req: &Req) -> Result<Response, ApiError> {
    match req.path_info() {
        PAY_PATH => {
            let pay: PayRequest = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("not a payment: {e}")))?;
            Ok(json_response(200, &take(&pay).await?))
        }
        REFUND_PATH => {
            let refund: RefundRequest = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("not a refund: {e}")))?;
            let (status, body) = send(&create_refund(&refund)).await?;
            let outcome = refund_reply(status, &body).map_err(unavailable)?;
            Ok(json_response(200, &outcome))
        }
        other => Err(ApiError::not_found(format!("no such call {other:?}"))),
    }
}

/// Creates and confirms the attempt's intent (both idempotent by the order
/// and attempt), or looks at the one made before.
async fn take(pay: &PayRequest) -> Result<PayOutcome, ApiError> {
    let first = match &pay.intent_id {
        Some(id) => retrieve_intent(id),
        None => create_intent(pay),
    };
    let (status, body) = send(&first).await?;
    match intent_reply(status, &body) {
        IntentReply::Outcome(outcome) => Ok(outcome),
        IntentReply::Retry(why) => Err(unavailable(why)),
        IntentReply::NeedsConfirmation { intent_id } => {
            let (status, body) = send(&confirm_intent(pay, &intent_id)).await?;
            match intent_reply(status, &body) {
                IntentReply::Outcome(outcome) => Ok(outcome),
                IntentReply::Retry(why) => Err(unavailable(why)),
                IntentReply::NeedsConfirmation { intent_id } => {
                    Err(unavailable(format!("{intent_id} is still unconfirmed")))
                }
            }
        }
    }
}

/// One call to the provider: its status and body.
async fn send(request: &Call) -> Result<(u16, Vec<u8>), ApiError> {
    let base = variable("payment_provider_url")?;
    let key = variable("payment_provider_key")?;
    let url = format!("{}{}", base.trim_end_matches('/'), request.path);
    let method = if request.method == "GET" {
        Method::Get
    } else {
        Method::Post
    };
    let authorization = format!("Bearer {key}");
    let mut headers = vec![
        ("authorization", authorization.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    if let Some(k) = &request.idempotency_key {
        headers.push(("idempotency-key", k));
    }
    let body = request.body().into_bytes();
    let answer = call(method, &url, &headers, body)
        .await
        .map_err(unavailable)?;
    Ok((answer.status, answer.body))
}

fn unavailable(why: String) -> ApiError {
    ApiError::unavailable("the payment provider did not answer").with_cause(why)
}
