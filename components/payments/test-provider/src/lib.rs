//! The test payment provider: a private component (`make up`, the tests and
//! the dev overlay only) that speaks the payment-intent API the adapter
//! (`pizza::payments::provider`) uses, keeping its books in
//! `test_provider_*`. Nothing in the order code is faked: the relay and the
//! provider component call it as they would call the real one.
//!
//! Test card tokens choose the outcome (`pizza::payments::test_cards`), and
//! the provider is down (503 to everything) while `test_provider_outage`
//! says so. Webhooks are signed with `payment_webhook_secret` and delivered
//! to `test_provider_webhook_url`, after the answer (before it for
//! `tok_webhook_first`): this instance goes on working once its response
//! is sent, as a real provider's queue would.

use pizza::ApiError;
use pizza::body::Fields;
use pizza::config::{now_secs, variable};
use pizza::db::Db;
use pizza::http::{Req, json_response, serve_async};
use pizza::outbound::call;
use pizza::payments::provider::{Event, EventData, Intent, Metadata, SIGNATURE_HEADER};
use pizza::payments::signature::sign;
use pizza::payments::test_cards::{Card, Confirmed, DELAY_SECS, card};
use pizza::store::test_provider::{self as store, Refunded};
use serde_json::{Value, json};
use spin_sdk::http::{IncomingRequest, Method, OutgoingResponse, Response, ResponseOutparam};
use spin_sdk::http_component;
use std::cell::RefCell;
use std::time::Duration;

/// A webhook to deliver once the answer is sent.
enum Delivery {
    /// An intent's outcome, `times` times, after `wait`; read again when
    /// sent (a delayed card's intent has succeeded by then).
    Intent {
        id: String,
        wait: Duration,
        times: usize,
    },
    /// A refund's outcome.
    Refund(Value),
}

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let later = RefCell::new(Vec::new());
    let allowed = [Method::Get, Method::Post];
    let response = serve_async(request, &allowed, async |req: &Req| {
        provider(req, &later).await
    })
    .await;
    let body = response.body().to_vec();
    match OutgoingResponse::try_from(response) {
        Ok(head) => {
            if let Err(e) = out.set_with_body(head, body).await {
                eprintln!("test provider: answer not sent: {e}");
            }
        }
        Err(e) => eprintln!("test provider: answer not made: {e}"),
    }
    for delivery in later.into_inner() {
        deliver(delivery).await;
    }
}

async fn provider(req: &Req, later: &RefCell<Vec<Delivery>>) -> Result<Response, ApiError> {
    let key = variable("payment_provider_key")?;
    if req.header("authorization") != Some(format!("Bearer {key}").as_str()) {
        return Ok(error(401, "authentication_error", "invalid_api_key", None));
    }
    let db = Db::connect()?;
    if store::down(&db)? {
        return Ok(error(503, "api_error", "provider_unavailable", None));
    }
    let path: Vec<&str> = req.path_info().trim_matches('/').split('/').collect();
    match (req.method == Method::Get, path.as_slice()) {
        (false, ["v1", "payment_intents"]) => create(req, &db),
        (false, ["v1", "payment_intents", id, "confirm"]) => confirm(&db, id, later).await,
        (true, ["v1", "payment_intents", id]) => match store::retrieve(&db, id)? {
            Some(intent) => Ok(json_response(200, &intent)),
            None => Ok(error(
                404,
                "invalid_request_error",
                "resource_missing",
                None,
            )),
        },
        (false, ["v1", "refunds"]) => refund(req, &db, later),
        _ => Ok(error(404, "invalid_request_error", "unknown_path", None)),
    }
}

/// A provider error in the API's shape.
fn error(status: u16, kind: &str, code: &str, intent: Option<&Intent>) -> Response {
    let mut body = json!({"error": {"type": kind, "code": code}});
    if let Some(intent) = intent {
        body["error"]["payment_intent"] = json!(intent);
        if let Some(e) = &intent.last_payment_error {
            body["error"]["code"] = json!(e.code);
            body["error"]["decline_code"] = json!(e.decline_code);
        }
    }
    json_response(status, &body)
}

fn form(req: &Req) -> Result<(Fields, String), ApiError> {
    let key = req
        .header("idempotency-key")
        .ok_or_else(|| ApiError::bad_request("Idempotency-Key is required"))?;
    Ok((req.fields()?, key.to_owned()))
}

fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    format!("{prefix}_{}", pizza::hex::encode(&bytes))
}

fn create(req: &Req, db: &Db) -> Result<Response, ApiError> {
    let (fields, key) = form(req)?;
    let method = fields.required_str("payment_method")?;
    if card(method) == Some(Card::ProviderDown) {
        return Ok(error(503, "api_error", "provider_unavailable", None));
    }
    let amount = fields
        .required_str("amount")?
        .parse::<i64>()
        .ok()
        .filter(|a| *a > 0)
        .ok_or_else(|| ApiError::bad_request("`amount` must be a positive integer"))?;
    let metadata = Metadata {
        order_id: fields
            .optional_str("metadata[order_id]")?
            .map(str::to_owned),
        attempt: fields.optional_str("metadata[attempt]")?.map(str::to_owned),
    };
    let made = store::create_intent(
        db,
        &key,
        &new_id("pi"),
        amount,
        fields.required_str("currency")?,
        method,
        &json!(metadata).to_string(),
    )?;
    Ok(match made {
        Some(intent) => json_response(200, &intent),
        None => error(409, "idempotency_error", "request_in_flight", None),
    })
}

async fn confirm(db: &Db, id: &str, later: &RefCell<Vec<Delivery>>) -> Result<Response, ApiError> {
    let Some(method) = store::method_of(db, id)? else {
        return Ok(error(
            404,
            "invalid_request_error",
            "resource_missing",
            None,
        ));
    };
    let card = card(&method);
    if card == Some(Card::ProviderDown) {
        return Ok(error(503, "api_error", "provider_unavailable", None));
    }
    let (status, code) = match card.map(Card::confirm) {
        Some(Confirmed::Succeeded) => ("succeeded", None),
        Some(Confirmed::Processing) => ("processing", None),
        Some(Confirmed::Declined(code)) => ("requires_payment_method", Some(code)),
        None => ("requires_payment_method", Some("invalid_payment_method")),
    };
    let Some((intent, fresh)) = store::confirm(db, id, status, code)? else {
        return Ok(error(
            404,
            "invalid_request_error",
            "resource_missing",
            None,
        ));
    };
    if fresh {
        let card = card.unwrap_or(Card::Declined);
        let wait = match card {
            Card::Delayed => Duration::from_millis(DELAY_SECS * 1000 + 200),
            _ => Duration::ZERO,
        };
        let delivery = Delivery::Intent {
            id: id.to_owned(),
            wait,
            times: card.deliveries(),
        };
        if card == Card::WebhookFirst {
            deliver(delivery).await;
        } else {
            later.borrow_mut().push(delivery);
        }
    }
    Ok(if intent.status == "requires_payment_method" {
        error(402, "card_error", "card_declined", Some(&intent))
    } else {
        json_response(200, &intent)
    })
}

fn refund(req: &Req, db: &Db, later: &RefCell<Vec<Delivery>>) -> Result<Response, ApiError> {
    let (fields, key) = form(req)?;
    let intent_id = fields.required_str("payment_intent")?;
    let amount = fields
        .required_str("amount")?
        .parse::<i64>()
        .map_err(|_| ApiError::bad_request("`amount` must be an integer"))?;
    let order_id = fields
        .optional_str("metadata[order_id]")?
        .unwrap_or_default();
    Ok(
        match store::refund(db, &key, &new_id("re"), intent_id, amount, order_id)? {
            Refunded::Done(refund) => {
                later.borrow_mut().push(Delivery::Refund(json!(refund)));
                json_response(200, &refund)
            }
            Refunded::NotRefundable => {
                error(400, "invalid_request_error", "charge_not_refundable", None)
            }
            Refunded::InFlight => error(409, "idempotency_error", "request_in_flight", None),
        },
    )
}

/// Sends a webhook (or several); a failed delivery is logged, as the real
/// provider would retry it later (the relay's own call already told).
async fn deliver(delivery: Delivery) {
    let (kind, object, times) = match delivery {
        Delivery::Refund(object) => ("refund.updated", object, 1),
        Delivery::Intent { id, wait, times } => {
            if times == 0 {
                return;
            }
            std::thread::sleep(wait);
            let intent = match Db::connect()
                .map_err(|e| e.to_string())
                .and_then(|db| store::retrieve(&db, &id).map_err(|e| e.to_string()))
            {
                Ok(Some(intent)) => intent,
                other => {
                    eprintln!("test provider: intent {id} unreadable: {other:?}");
                    return;
                }
            };
            let kind = match intent.status.as_str() {
                "succeeded" => "payment_intent.succeeded",
                _ => "payment_intent.payment_failed",
            };
            (kind, json!(intent), times)
        }
    };
    let event = Event {
        id: new_id("evt"),
        kind: kind.to_owned(),
        data: EventData { object },
    };
    let body = json!(event).to_string();
    for n in 0..times {
        if n > 0 {
            // A redelivery is signed anew, in another second.
            std::thread::sleep(Duration::from_millis(1100));
        }
        if let Err(e) = send(&body).await {
            eprintln!("test provider: webhook {} not delivered: {e}", event.id);
        }
    }
}

async fn send(body: &str) -> Result<(), String> {
    let url = variable("test_provider_webhook_url").map_err(|e| e.to_string())?;
    let secret = variable("payment_webhook_secret").map_err(|e| e.to_string())?;
    let signature = sign(secret.as_bytes(), now_secs(), body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        (SIGNATURE_HEADER, signature.as_str()),
    ];
    let answer = call(Method::Post, &url, &headers, body.as_bytes().to_vec()).await?;
    if answer.status != 200 {
        return Err(format!("webhook answered {}", answer.status));
    }
    Ok(())
}
