//! The adapter: the only module that knows the payment provider's wire API.
//!
//! The API is the widely used payment-intent style, in the subset the shop
//! needs (README, "Cart, checkout and payments"):
//!
//! | call | for |
//! |---|---|
//! | `POST /v1/payment_intents` (form: `amount`, `currency`, `payment_method`, `metadata[order_id]`, `metadata[attempt]`) with `Idempotency-Key` | create the intent |
//! | `POST /v1/payment_intents/{id}/confirm` with `Idempotency-Key` | take the money |
//! | `GET /v1/payment_intents/{id}` | look again at a `processing` intent |
//! | `POST /v1/refunds` (form: `payment_intent`, `amount`, `metadata[order_id]`) with `Idempotency-Key` | give it back |
//! | webhook events `payment_intent.succeeded`, `payment_intent.payment_failed`, `refund.updated`, signed in [`SIGNATURE_HEADER`] | hear of outcomes |
//!
//! Calls carry `Authorization: Bearer <payment_provider_key>`. A declined
//! card is a 402 whose `error` names the code and carries the intent.
//!
//! **Money never moves twice**: every key derives from the order and the
//! step ([`pay_key`], [`refund_key`]), so a step repeated by any relay, any
//! number of times, is the same call to the provider.

use crate::payments::gateway::{PayOutcome, PayRequest, RefundOutcome, RefundRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The webhook's signature header (`t=…,v1=…`, [`crate::payments::signature`]).
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The idempotency key of creating attempt `attempt` of an order's payment.
pub fn pay_key(order_id: i32, attempt: i32) -> String {
    format!("pizza-order-{order_id}-payment-{attempt}")
}

/// The idempotency key of confirming it.
pub fn confirm_key(order_id: i32, attempt: i32) -> String {
    format!("{}-confirm", pay_key(order_id, attempt))
}

/// The idempotency key of an order's refund (an order is refunded once).
pub fn refund_key(order_id: i32) -> String {
    format!("pizza-order-{order_id}-refund")
}

/// A payment intent as the provider shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// `pi_…`.
    pub id: String,
    /// `requires_confirmation`, `processing`, `succeeded`, `requires_payment_method` (declined) …
    pub status: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The shop's own fields, as strings.
    #[serde(default)]
    pub metadata: Metadata,
    /// Why the last confirmation failed.
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
}

/// The shop's fields on an intent or refund.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The order, as text.
    #[serde(default)]
    pub order_id: Option<String>,
    /// The payment attempt, as text.
    #[serde(default)]
    pub attempt: Option<String>,
}

/// A failed payment's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentError {
    /// `card_declined`, `invalid_payment_method` …
    pub code: String,
    /// The bank's finer reason (`insufficient_funds` …), if any.
    #[serde(default)]
    pub decline_code: Option<String>,
}

/// A refund as the provider shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// `pending`, `succeeded`, `failed`.
    pub status: String,
    /// The intent it gives money back for.
    pub payment_intent: String,
    /// Minor units.
    pub amount: i64,
    /// The shop's own fields.
    #[serde(default)]
    pub metadata: Metadata,
}

/// One call to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// From the base URL on, e.g. `/v1/refunds`.
    pub path: String,
    /// The form fields of a `POST`.
    pub form: Vec<(&'static str, String)>,
    /// Its `Idempotency-Key`, for a `POST`.
    pub idempotency_key: Option<String>,
}

impl Call {
    /// The form body, `application/x-www-form-urlencoded`.
    pub fn body(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish()
    }
}

/// Creates the intent of a payment attempt.
pub fn create_intent(pay: &PayRequest) -> Call {
    Call {
        method: "POST",
        path: "/v1/payment_intents".into(),
        form: vec![
            ("amount", pay.amount_minor.to_string()),
            ("currency", pay.currency.clone()),
            ("payment_method", pay.method.clone()),
            ("metadata[order_id]", pay.order_id.to_string()),
            ("metadata[attempt]", pay.attempt.to_string()),
        ],
        idempotency_key: Some(pay_key(pay.order_id, pay.attempt)),
    }
}

/// Confirms it: the provider takes the money or declines.
pub fn confirm_intent(pay: &PayRequest, intent_id: &str) -> Call {
    Call {
        method: "POST",
        path: format!("/v1/payment_intents/{intent_id}/confirm"),
        form: Vec::new(),
        idempotency_key: Some(confirm_key(pay.order_id, pay.attempt)),
    }
}

/// Reads an intent again.
pub fn retrieve_intent(intent_id: &str) -> Call {
    Call {
        method: "GET",
        path: format!("/v1/payment_intents/{intent_id}"),
        form: Vec::new(),
        idempotency_key: None,
    }
}

/// Refunds an order's payment in full.
pub fn create_refund(refund: &RefundRequest) -> Call {
    Call {
        method: "POST",
        path: "/v1/refunds".into(),
        form: vec![
            ("payment_intent", refund.intent_id.clone()),
            ("amount", refund.amount_minor.to_string()),
            ("metadata[order_id]", refund.order_id.to_string()),
        ],
        idempotency_key: Some(refund_key(refund.order_id)),
    }
}

/// What an answer about an intent means for the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentReply {
    /// Decided, or still processing.
    Outcome(PayOutcome),
    /// Created but not confirmed yet: confirm it.
    NeedsConfirmation {
        /// The intent.
        intent_id: String,
    },
    /// Not answered (5xx, 409 in flight, 429, an answer we cannot read):
    /// try the step again later.
    Retry(String),
}

/// Reads the provider's answer (`status`, `body`) to an intent call.
pub fn intent_reply(status: u16, body: &[u8]) -> IntentReply {
    if status == 402 {
        return match serde_json::from_slice::<Value>(body) {
            Ok(answer) => declined(&answer["error"]),
            Err(e) => IntentReply::Retry(format!("unreadable 402: {e}")),
        };
    }
    if status != 200 {
        return IntentReply::Retry(format!("provider answered {status}: {}", excerpt(body)));
    }
    match serde_json::from_slice::<Intent>(body) {
        Ok(intent) => outcome(intent),
        Err(e) => IntentReply::Retry(format!("unreadable intent: {e}")),
    }
}

fn declined(error: &Value) -> IntentReply {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let code = text(&error["decline_code"])
        .or_else(|| text(&error["code"]))
        .unwrap_or_else(|| "declined".into());
    IntentReply::Outcome(PayOutcome::Failed {
        intent_id: text(&error["payment_intent"]["id"]),
        code,
    })
}

fn outcome(intent: Intent) -> IntentReply {
    let intent_id = intent.id;
    IntentReply::Outcome(match intent.status.as_str() {
        "succeeded" => PayOutcome::Succeeded { intent_id },
        "processing" => PayOutcome::Processing { intent_id },
        "requires_confirmation" => return IntentReply::NeedsConfirmation { intent_id },
        status => {
            let code = intent
                .last_payment_error
                .map(|e| e.decline_code.unwrap_or(e.code))
                .unwrap_or_else(|| status.to_owned());
            PayOutcome::Failed {
                intent_id: Some(intent_id),
                code,
            }
        }
    })
}

/// Reads the provider's answer to a refund call; `Err` to try again later.
pub fn refund_reply(status: u16, body: &[u8]) -> Result<RefundOutcome, String> {
    if status != 200 {
        return Err(format!("provider answered {status}: {}", excerpt(body)));
    }
    let refund: Refund =
        serde_json::from_slice(body).map_err(|e| format!("unreadable refund: {e}"))?;
    match refund.status.as_str() {
        "succeeded" => Ok(RefundOutcome::Succeeded {
            refund_id: refund.id,
        }),
        "pending" => Ok(RefundOutcome::Pending {
            refund_id: refund.id,
        }),
        other => Err(format!("refund {} is {other}", refund.id)),
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

/// A webhook event, as the provider sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// `payment_intent.succeeded` …
    #[serde(rename = "type")]
    pub kind: String,
    /// The object it is about.
    pub data: EventData,
}

/// An event's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    /// An [`Intent`] or a [`Refund`], by the event's type.
    pub object: Value,
}

/// What a webhook tells the saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An attempt's money was taken.
    PaymentSucceeded {
        /// The order.
        order_id: i32,
        /// The attempt.
        attempt: i32,
        /// The intent.
        intent_id: String,
    },
    /// An attempt was declined.
    PaymentFailed {
        /// The order.
        order_id: i32,
        /// The attempt.
        attempt: i32,
        /// The intent.
        intent_id: String,
        /// Why.
        code: String,
    },
    /// An order's money was given back.
    RefundSucceeded {
        /// The order.
        order_id: i32,
        /// The refund.
        refund_id: String,
    },
    /// Something the shop does not act on (another type, another shop's
    /// object, a refund still pending).
    Ignored,
}

/// Reads a webhook body; `Err` for one that is not an event.
pub fn notice(body: &[u8]) -> Result<Notice, String> {
    let event: Event = serde_json::from_slice(body).map_err(|e| format!("not an event: {e}"))?;
    let object = event.data.object;
    let bad = |e: serde_json::Error| format!("event {}: {e}", event.id);
    Ok(match event.kind.as_str() {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            let intent: Intent = serde_json::from_value(object).map_err(bad)?;
            let (Some(order_id), Some(attempt)) = (
                number(&intent.metadata.order_id),
                number(&intent.metadata.attempt),
            ) else {
                return Ok(Notice::Ignored);
            };
            match outcome(intent) {
                IntentReply::Outcome(PayOutcome::Succeeded { intent_id }) => {
                    Notice::PaymentSucceeded {
                        order_id,
                        attempt,
                        intent_id,
                    }
                }
                IntentReply::Outcome(PayOutcome::Failed {
                    intent_id: Some(intent_id),
                    code,
                }) => Notice::PaymentFailed {
                    order_id,
                    attempt,
                    intent_id,
                    code,
                },
                _ => Notice::Ignored,
            }
        }
        "refund.updated" | "refund.created" => {
            let refund: Refund = serde_json::from_value(object).map_err(bad)?;
            match (number(&refund.metadata.order_id), refund.status.as_str()) {
                (Some(order_id), "succeeded") => Notice::RefundSucceeded {
                    order_id,
                    refund_id: refund.id,
                },
                _ => Notice::Ignored,
            }
        }
        _ => Notice::Ignored,
    })
}

fn number(text: &Option<String>) -> Option<i32> {
    text.as_deref()?.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pay() -> PayRequest {
        PayRequest {
            order_id: 7,
            attempt: 2,
            amount_minor: 2150,
            currency: "usd".into(),
            method: "tok_visa".into(),
            intent_id: None,
        }
    }

    #[test]
    fn keys_derive_from_order_and_step() {
        let create = create_intent(&pay());
        assert_eq!(
            create.idempotency_key.as_deref(),
            Some("pizza-order-7-payment-2")
        );
        assert_eq!(
            create.body(),
            "amount=2150&currency=usd&payment_method=tok_visa&metadata%5Border_id%5D=7&metadata%5Battempt%5D=2"
        );
        let confirm = confirm_intent(&pay(), "pi_1");
        assert_eq!(confirm.path, "/v1/payment_intents/pi_1/confirm");
        assert_eq!(
            confirm.idempotency_key.as_deref(),
            Some("pizza-order-7-payment-2-confirm")
        );
        let refund = create_refund(&RefundRequest {
            order_id: 7,
            intent_id: "pi_1".into(),
            amount_minor: 2150,
        });
        assert_eq!(
            refund.idempotency_key.as_deref(),
            Some("pizza-order-7-refund")
        );
        assert_eq!(retrieve_intent("pi_1").method, "GET");
    }

    fn intent(status: &str) -> Value {
        json!({"id": "pi_1", "status": status, "amount": 2150, "currency": "usd",
               "metadata": {"order_id": "7", "attempt": "2"}})
    }

    #[test]
    fn intent_answers_become_outcomes() {
        let body = |v: Value| v.to_string().into_bytes();
        let succeeded = PayOutcome::Succeeded {
            intent_id: "pi_1".into(),
        };
        assert_eq!(
            intent_reply(200, &body(intent("succeeded"))),
            IntentReply::Outcome(succeeded)
        );
        let processing = PayOutcome::Processing {
            intent_id: "pi_1".into(),
        };
        assert_eq!(
            intent_reply(200, &body(intent("processing"))),
            IntentReply::Outcome(processing)
        );
        assert_eq!(
            intent_reply(200, &body(intent("requires_confirmation"))),
            IntentReply::NeedsConfirmation {
                intent_id: "pi_1".into()
            }
        );
        let declined = json!({"error": {"type": "card_error", "code": "card_declined",
                                        "decline_code": "insufficient_funds",
                                        "payment_intent": intent("requires_payment_method")}});
        assert_eq!(
            intent_reply(402, &body(declined)),
            IntentReply::Outcome(PayOutcome::Failed {
                intent_id: Some("pi_1".into()),
                code: "insufficient_funds".into()
            })
        );
        for status in [500, 503, 409, 429] {
            assert!(
                matches!(intent_reply(status, b"{}"), IntentReply::Retry(_)),
                "{status}"
            );
        }
        assert!(matches!(
            intent_reply(200, b"<html>"),
            IntentReply::Retry(_)
        ));
    }

    #[test]
    fn refund_answers() {
        let refund = json!({"id": "re_1", "status": "succeeded", "payment_intent": "pi_1",
                            "amount": 2150, "metadata": {"order_id": "7"}});
        assert_eq!(
            refund_reply(200, refund.to_string().as_bytes()),
            Ok(RefundOutcome::Succeeded {
                refund_id: "re_1".into()
            })
        );
        assert!(refund_reply(503, b"down").is_err());
    }

    #[test]
    fn webhook_events_become_notices() {
        let event = |kind: &str, object: Value| {
            json!({"id": "evt_1", "type": kind, "data": {"object": object}}).to_string()
        };
        assert_eq!(
            notice(event("payment_intent.succeeded", intent("succeeded")).as_bytes()),
            Ok(Notice::PaymentSucceeded {
                order_id: 7,
                attempt: 2,
                intent_id: "pi_1".into()
            })
        );
        let mut failed = intent("requires_payment_method");
        failed["last_payment_error"] = json!({"code": "card_declined"});
        assert_eq!(
            notice(event("payment_intent.payment_failed", failed).as_bytes()),
            Ok(Notice::PaymentFailed {
                order_id: 7,
                attempt: 2,
                intent_id: "pi_1".into(),
                code: "card_declined".into()
            })
        );
        let refund = json!({"id": "re_1", "status": "succeeded", "payment_intent": "pi_1",
                            "amount": 1, "metadata": {"order_id": "7"}});
        assert_eq!(
            notice(event("refund.updated", refund).as_bytes()),
            Ok(Notice::RefundSucceeded {
                order_id: 7,
                refund_id: "re_1".into()
            })
        );
        assert_eq!(
            notice(event("customer.created", json!({})).as_bytes()),
            Ok(Notice::Ignored)
        );
        let foreign = json!({"id": "pi_9", "status": "succeeded", "amount": 1, "currency": "usd"});
        assert_eq!(
            notice(event("payment_intent.succeeded", foreign).as_bytes()),
            Ok(Notice::Ignored)
        );
        assert!(notice(b"[]").is_err());
        assert!(notice(event("payment_intent.succeeded", json!(3)).as_bytes()).is_err());
    }
}
