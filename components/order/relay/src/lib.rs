//! `POST /internal/relay/` with `Authorization: Bearer <relay_token>`: one
//! pass of the payment saga's relay → 200 `{claimed, handled, retried,
//! dead_lettered}`.
//!
//! A pass claims up to `?batch=` (default 20, at most 100) due events from
//! the outbox (`FOR UPDATE SKIP LOCKED`, with a lease, so relays running at
//! once never take the same event) and runs each one's step
//! (`pizza::payments::saga`): asking the provider component to take or give
//! back money, and moving the order on its word. Each step's write also
//! settles its event: handled, tried again later with exponential backoff,
//! or dead-lettered after `relay_max_attempts` tries, for an admin to replay.
//! No pooled connection is held while the provider is asked.
//!
//! A ticker calls it (README, "Cart, checkout and payments"): `make up`'s every second, on
//! SpinKube a CronJob's. It is not under `/api`, so no gateway route
//! reaches it.

use pizza::config::{self, variable};
use pizza::db::Db;
use pizza::http::{Req, json_response, serve_async};
use pizza::outbound::call;
use pizza::payments::gateway::{
    PAY_PATH, PROVIDER_ORIGIN, PayOutcome, PayRequest, REFUND_PATH, RefundOutcome, RefundRequest,
};
use pizza::payments::saga::{self, Retry, Step};
use pizza::store::relay::{self as store, Claimed, Settle, SystemMove, ToRefund};
use pizza::{ApiError, constant_time};
use serde::Serialize;
use serde::de::DeserializeOwned;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// Events whose handling is a business outcome for the request's log line.
const OUTCOMES: [&str; 3] = ["payment.succeeded", "payment.failed", "refund.succeeded"];

/// How long a claimed event stays this relay's (longer than any step).
const LEASE_SECS: i32 = 60;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve_async(request, &[Method::Post], relay).await
}

async fn relay(req: &Req) -> Result<Response, ApiError> {
    authorize(req)?;
    let batch = match req.query_param("batch") {
        None => 20,
        Some(n) => n
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::bad_request("`batch` must be an integer from 1 to 100"))?,
    };
    let max_attempts = config::relay_max_attempts()?;
    let claimed = store::claim(&Db::connect()?, batch, LEASE_SECS)?;
    let mut pass = Pass {
        claimed: claimed.len(),
        ..Pass::default()
    };
    for event in &claimed {
        match run(event, max_attempts).await {
            Ok(Settle::Handled) => {
                pass.handled += 1;
                // The saga's outcomes, counted once each (the event is).
                if OUTCOMES.contains(&event.event_type.as_str()) {
                    req.note_event(event.event_type.clone());
                }
            }
            Ok(Settle::Retry(Retry::After(_), _)) => pass.retried += 1,
            Ok(Settle::Retry(Retry::DeadLetter, _)) => {
                pass.dead_lettered += 1;
                req.note_event("relay.dead_lettered");
            }
            // The event stays claimed until its lease runs out, then is tried again.
            Err(e) => {
                eprintln!("relay: event {}: {e}", event.event_id);
                pass.unsettled += 1;
            }
        }
    }
    Ok(json_response(200, &pass))
}

/// What one pass did.
#[derive(Debug, Default, Serialize)]
struct Pass {
    claimed: usize,
    handled: usize,
    retried: usize,
    dead_lettered: usize,
    unsettled: usize,
}

/// 401 unless the request carries the configured `relay_token`.
fn authorize(req: &Req) -> Result<(), ApiError> {
    let expected = variable("relay_token")?;
    let given = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    if expected.is_empty() || !constant_time::eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// Runs an event's step and settles it; how it was settled.
async fn run(event: &Claimed, max_attempts: i32) -> Result<Settle, ApiError> {
    let id = event.event_id;
    let later = |why: String| Settle::Retry(saga::retry(event.attempts, max_attempts), why);
    let step = match saga::step(&event.event_type, &event.payload) {
        Ok(step) => step,
        Err(why) => return settle(id, Settle::Retry(Retry::DeadLetter, why)),
    };
    match step {
        Step::Nothing => settle(id, Settle::Handled),
        Step::Pay { order_id, attempt } => {
            let Some(due) = store::attempt(&Db::connect()?, order_id, attempt)? else {
                let why = format!("order {order_id} has no payment attempt {attempt}");
                return settle(id, Settle::Retry(Retry::DeadLetter, why));
            };
            if !due.due {
                return settle(id, Settle::Handled);
            }
            let pay = PayRequest {
                order_id,
                attempt,
                amount_minor: due.amount_minor,
                currency: due.currency,
                method: due.method,
                intent_id: due.intent_id,
            };
            let outcome = match ask::<_, PayOutcome>(PAY_PATH, &pay).await {
                Ok(outcome) => outcome,
                Err(why) => return settle(id, later(why)),
            };
            let how = match &outcome {
                PayOutcome::Processing { intent_id } => later(format!("{intent_id} is processing")),
                _ => Settle::Handled,
            };
            store::record_payment(&Db::connect()?, id, order_id, attempt, &outcome, &how)?;
            Ok(how)
        }
        Step::Paid { order_id, attempt } => moved(
            id,
            order_id,
            "payment_pending",
            "paid",
            Some((attempt, "succeeded")),
            None,
        ),
        Step::Declined { order_id, attempt } => {
            let code = event.payload.get("code").and_then(|c| c.as_str());
            moved(
                id,
                order_id,
                "payment_pending",
                "payment_failed",
                Some((attempt, "failed")),
                code,
            )
        }
        Step::Refunded { order_id } => {
            moved(id, order_id, "refund_pending", "refunded", None, None)
        }
        Step::Refund { order_id } => {
            let ToRefund::Money {
                intent_id,
                amount_minor,
            } = store::prepare_refund(&Db::connect()?, id, order_id)?
            else {
                return Ok(Settle::Handled);
            };
            let refund = RefundRequest {
                order_id,
                intent_id,
                amount_minor,
            };
            let outcome = match ask::<_, RefundOutcome>(REFUND_PATH, &refund).await {
                Ok(outcome) => outcome,
                Err(why) => return settle(id, later(why)),
            };
            let how = match &outcome {
                RefundOutcome::Pending { refund_id } => later(format!("{refund_id} is pending")),
                RefundOutcome::Succeeded { .. } => Settle::Handled,
            };
            store::record_refund(&Db::connect()?, id, order_id, &outcome, &how)?;
            Ok(how)
        }
    }
}

fn settle(event_id: i64, how: Settle) -> Result<Settle, ApiError> {
    store::settle(&Db::connect()?, event_id, &how)?;
    Ok(how)
}

/// Moves an order on the provider's word and settles the event.
fn moved(
    event_id: i64,
    order_id: i32,
    from: &str,
    to: &str,
    attempt: Option<(i32, &str)>,
    reason: Option<&str>,
) -> Result<Settle, ApiError> {
    let step = SystemMove {
        order_id,
        from,
        to,
        attempt,
        reason,
    };
    store::system_move(&Db::connect()?, event_id, &step)?;
    Ok(Settle::Handled)
}

/// Asks the provider component; `Err` says why no answer came.
async fn ask<Q: Serialize, A: DeserializeOwned>(path: &str, question: &Q) -> Result<A, String> {
    let body = serde_json::to_vec(question).map_err(|e| e.to_string())?;
    let url = format!("{PROVIDER_ORIGIN}{path}");
    let answer = call(
        Method::Post,
        &url,
        &[("content-type", "application/json")],
        body,
    )
    .await?;
    if answer.status != 200 {
        let text = String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]).into_owned();
        return Err(format!(
            "provider component answered {}: {text}",
            answer.status
        ));
    }
    serde_json::from_slice(&answer.body).map_err(|e| format!("unreadable answer: {e}"))
}
