//! The payment saga: which step each outbox event asks the relay for, and
//! what becomes of a step that failed.
//!
//! ```text
//! order.placed (checkout)  ─┐
//! payment.requested (retry) ┴→ create and confirm the intent ─→ payment.succeeded | payment.failed
//! payment.succeeded        → payment_pending → paid
//! payment.failed           → payment_pending → payment_failed
//! order.cancelled (paid)   → cancelled → refund_pending, refund ─→ refund.succeeded
//! refund.succeeded         → refund_pending → refunded
//! ```
//!
//! Every step is idempotent: the provider's idempotency keys derive from the
//! order and the step ([`crate::payments::provider`]), and every state move
//! is conditional on the state it leaves, so a step run twice (a relay that
//! died after acting, or two relays) changes nothing the second time.

use crate::payments::provider::Notice;
use serde_json::{Value, json};

/// The event types the relay claims (`outbox_saga_due_idx`, migration 0016).
pub const EVENT_TYPES: [&str; 6] = [
    "order.placed",
    "payment.requested",
    "payment.succeeded",
    "payment.failed",
    "order.cancelled",
    "refund.succeeded",
];

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing: an order placed without payment (paid at the counter).
    Nothing,
    /// Take attempt `attempt` of the order's payment.
    Pay {
        /// The order.
        order_id: i32,
        /// Its payment attempt (1 at checkout, +1 per retry).
        attempt: i32,
    },
    /// The provider took the money for that attempt: the order is paid.
    Paid {
        /// The order.
        order_id: i32,
        /// The attempt that succeeded.
        attempt: i32,
    },
    /// The provider declined that attempt.
    Declined {
        /// The order.
        order_id: i32,
        /// The attempt that failed.
        attempt: i32,
    },
    /// The order was cancelled: give the money back if it was taken.
    Refund {
        /// The order.
        order_id: i32,
    },
    /// The money was given back.
    Refunded {
        /// The order.
        order_id: i32,
    },
}

/// The step an event of `event_type` with `payload` asks for; an error for a
/// payload without the fields its type needs (the event is dead-lettered).
pub fn step(event_type: &str, payload: &Value) -> Result<Step, String> {
    let order_id = || int(payload, "order_id");
    let attempt = || int(payload, "attempt");
    Ok(match event_type {
        "order.placed" => match payload.get("payment") {
            None | Some(Value::Null) => Step::Nothing,
            Some(payment) => Step::Pay {
                order_id: order_id()?,
                attempt: int(payment, "attempt")?,
            },
        },
        "payment.requested" => Step::Pay {
            order_id: order_id()?,
            attempt: attempt()?,
        },
        "payment.succeeded" => Step::Paid {
            order_id: order_id()?,
            attempt: attempt()?,
        },
        "payment.failed" => Step::Declined {
            order_id: order_id()?,
            attempt: attempt()?,
        },
        "order.cancelled" => Step::Refund {
            order_id: order_id()?,
        },
        "refund.succeeded" => Step::Refunded {
            order_id: order_id()?,
        },
        other => return Err(format!("the relay has no step for {other:?}")),
    })
}

fn int(value: &Value, field: &str) -> Result<i32, String> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| format!("payload without an integer `{field}`"))
}

/// A saga event reported by the provider (its webhook, or its answer to the
/// relay): what the outbox gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// `payment.succeeded`, `payment.failed` or `refund.succeeded`.
    pub event_type: &'static str,
    /// The order.
    pub order_id: i32,
    /// The payload, JSON text ([`step`] reads it).
    pub payload: String,
    /// The provider's object id: one outcome reported twice (the answer and
    /// the webhook, or a redelivery) is one event.
    pub dedupe_key: String,
}

/// The event a webhook's notice reports; `None` for one the saga ignores.
pub fn reported(notice: &Notice) -> Option<Reported> {
    let (event_type, order_id, payload, key) = match notice {
        Notice::PaymentSucceeded {
            order_id,
            attempt,
            intent_id,
        } => (
            "payment.succeeded",
            *order_id,
            json!({"order_id": order_id, "attempt": attempt, "intent_id": intent_id}),
            intent_id,
        ),
        Notice::PaymentFailed {
            order_id,
            attempt,
            intent_id,
            code,
        } => (
            "payment.failed",
            *order_id,
            json!({"order_id": order_id, "attempt": attempt, "intent_id": intent_id, "code": code}),
            intent_id,
        ),
        Notice::RefundSucceeded {
            order_id,
            refund_id,
        } => (
            "refund.succeeded",
            *order_id,
            json!({"order_id": order_id, "refund_id": refund_id}),
            refund_id,
        ),
        Notice::Ignored => return None,
    };
    Some(Reported {
        event_type,
        order_id,
        payload: payload.to_string(),
        dedupe_key: key.clone(),
    })
}

/// The first retry's delay; each later one doubles, up to [`MAX_DELAY_MS`].
pub const FIRST_DELAY_MS: u64 = 1_000;
/// The longest delay between two tries of one event.
pub const MAX_DELAY_MS: u64 = 60_000;
/// The default of `relay_max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 10;

/// What becomes of an event whose step did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again after this many milliseconds.
    After(u64),
    /// Give up: dead-letter it for an admin to look at and replay.
    DeadLetter,
}

/// The retry after the `attempts`-th try (counted from 1) did not finish:
/// exponential backoff, dead-lettered once `attempts` reaches `max_attempts`.
pub fn retry(attempts: i32, max_attempts: i32) -> Retry {
    if attempts >= max_attempts {
        return Retry::DeadLetter;
    }
    let doublings = attempts.clamp(1, 32) as u32 - 1;
    let delay = FIRST_DELAY_MS.saturating_mul(1u64 << doublings.min(20));
    Retry::After(delay.min(MAX_DELAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_event_asks_for_its_step() {
        let paid_at_counter = json!({"order_id": 7, "state": "placed"});
        assert_eq!(step("order.placed", &paid_at_counter), Ok(Step::Nothing));
        let checkout = json!({"order_id": 7, "payment": {"attempt": 1, "method": "tok_visa"}});
        let pay = Step::Pay {
            order_id: 7,
            attempt: 1,
        };
        assert_eq!(step("order.placed", &checkout), Ok(pay));
        let retry = json!({"order_id": 7, "attempt": 2});
        let pay2 = Step::Pay {
            order_id: 7,
            attempt: 2,
        };
        assert_eq!(step("payment.requested", &retry), Ok(pay2));
        let paid = Step::Paid {
            order_id: 7,
            attempt: 2,
        };
        assert_eq!(step("payment.succeeded", &retry), Ok(paid));
        let declined = Step::Declined {
            order_id: 7,
            attempt: 2,
        };
        assert_eq!(step("payment.failed", &retry), Ok(declined));
        assert_eq!(
            step("order.cancelled", &retry),
            Ok(Step::Refund { order_id: 7 })
        );
        assert_eq!(
            step("refund.succeeded", &retry),
            Ok(Step::Refunded { order_id: 7 })
        );
        assert!(step("payment.succeeded", &json!({"order_id": 7})).is_err());
        assert!(step("order.accepted", &retry).is_err());
    }

    #[test]
    fn every_claimed_type_has_a_step() {
        let payload = json!({"order_id": 1, "attempt": 1});
        for event_type in EVENT_TYPES {
            assert!(step(event_type, &payload).is_ok(), "{event_type}");
        }
    }

    #[test]
    fn notices_report_the_events_steps_read() {
        let notice = Notice::PaymentSucceeded {
            order_id: 7,
            attempt: 2,
            intent_id: "pi_1".into(),
        };
        let event = reported(&notice).unwrap();
        assert_eq!(event.dedupe_key, "pi_1");
        let payload: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(
            step(event.event_type, &payload),
            Ok(Step::Paid {
                order_id: 7,
                attempt: 2
            })
        );
        let refund = Notice::RefundSucceeded {
            order_id: 7,
            refund_id: "re_1".into(),
        };
        let event = reported(&refund).unwrap();
        let payload: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(
            step(event.event_type, &payload),
            Ok(Step::Refunded { order_id: 7 })
        );
        assert_eq!(reported(&Notice::Ignored), None);
    }

    #[test]
    fn backoff_doubles_to_a_cap_then_dead_letters() {
        let delays: Vec<Retry> = (1..=9).map(|n| retry(n, 10)).collect();
        let want = [
            1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
        ];
        assert_eq!(delays, want.map(Retry::After));
        assert_eq!(retry(10, 10), Retry::DeadLetter);
        assert_eq!(retry(11, 10), Retry::DeadLetter);
        assert_eq!(retry(1, 1), Retry::DeadLetter);
    }
}
