//! What the relay asks the provider component (`payments-provider`, reached
//! by chaining at [`PROVIDER_ORIGIN`]) and what it answers: the shop's own
//! small protocol, the same whichever provider sits behind it.
//!
//! A provider that cannot be reached, or answers 5xx, 409 or 429, makes the
//! component answer 503: the relay tries the step again later.

use serde::{Deserialize, Serialize};

/// The provider component, by service chaining.
pub const PROVIDER_ORIGIN: &str = "http://payments-provider.spin.internal";
/// Its path that takes a payment: [`PayRequest`] → [`PayOutcome`].
pub const PAY_PATH: &str = "/pay";
/// Its path that gives money back: [`RefundRequest`] → [`RefundOutcome`].
pub const REFUND_PATH: &str = "/refund";

/// Take attempt `attempt` of order `order_id`'s payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayRequest {
    /// The order.
    pub order_id: i32,
    /// The attempt (the provider's idempotency key derives from both).
    pub attempt: i32,
    /// How much, in the currency's minor unit (cents).
    pub amount_minor: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The payment method token the member gave.
    pub method: String,
    /// The intent an earlier try created, to look at rather than create.
    pub intent_id: Option<String>,
}

/// What became of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PayOutcome {
    /// The money was taken.
    Succeeded {
        /// The provider's intent.
        intent_id: String,
    },
    /// Not decided yet: look again later (or wait for the webhook).
    Processing {
        /// The provider's intent.
        intent_id: String,
    },
    /// Declined; the member may pay another way.
    Failed {
        /// The provider's intent, if one was made.
        intent_id: Option<String>,
        /// Why, as the provider says it (`card_declined`, `insufficient_funds` …).
        code: String,
    },
}

/// Give back the money of order `order_id`'s payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// The order (the refund's idempotency key derives from it).
    pub order_id: i32,
    /// The intent that took the money.
    pub intent_id: String,
    /// How much, in minor units.
    pub amount_minor: i64,
}

/// What became of a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RefundOutcome {
    /// The money is on its way back.
    Succeeded {
        /// The provider's refund.
        refund_id: String,
    },
    /// Not decided yet: ask again later.
    Pending {
        /// The provider's refund.
        refund_id: String,
    },
}
