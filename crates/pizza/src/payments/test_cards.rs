//! The test provider's cards: each test token chooses what confirming a
//! payment with it does (README, "Cart, checkout and payments", lists them).

/// What confirming a payment with a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// Succeeds; the webhook follows the answer.
    Succeeds,
    /// Succeeds; the webhook is sent before the answer.
    WebhookFirst,
    /// Succeeds; the webhook is delivered twice (signed anew each time).
    WebhookTwice,
    /// Declined: `card_declined`.
    Declined,
    /// Declined: `insufficient_funds`.
    InsufficientFunds,
    /// `processing`, then succeeds after [`DELAY_SECS`] with a webhook.
    Delayed,
    /// `processing`, then succeeds after [`DELAY_SECS`] with no webhook: only
    /// looking at the intent again tells.
    DelayedSilent,
    /// The provider is down for it: every call answers 503.
    ProviderDown,
}

/// How long a delayed card stays `processing`.
pub const DELAY_SECS: u64 = 2;

/// Every test token and its card.
pub const CARDS: [(&str, Card); 8] = [
    ("tok_visa", Card::Succeeds),
    ("tok_webhook_first", Card::WebhookFirst),
    ("tok_webhook_twice", Card::WebhookTwice),
    ("tok_chargeDeclined", Card::Declined),
    (
        "tok_chargeDeclinedInsufficientFunds",
        Card::InsufficientFunds,
    ),
    ("tok_delayed", Card::Delayed),
    ("tok_delayed_silent", Card::DelayedSilent),
    ("tok_provider_down", Card::ProviderDown),
];

/// The card a token stands for; `None` is an unknown payment method.
pub fn card(token: &str) -> Option<Card> {
    CARDS.iter().find(|(t, _)| *t == token).map(|(_, c)| *c)
}

/// What confirming ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// `succeeded`.
    Succeeded,
    /// `processing`: decided later.
    Processing,
    /// Declined with this code (402).
    Declined(&'static str),
}

impl Card {
    /// The outcome of confirming with this card.
    pub fn confirm(self) -> Confirmed {
        match self {
            Card::Succeeds | Card::WebhookFirst | Card::WebhookTwice | Card::ProviderDown => {
                Confirmed::Succeeded
            }
            Card::Declined => Confirmed::Declined("card_declined"),
            Card::InsufficientFunds => Confirmed::Declined("insufficient_funds"),
            Card::Delayed | Card::DelayedSilent => Confirmed::Processing,
        }
    }

    /// How many webhook deliveries follow the decision (0 for a silent card).
    pub fn deliveries(self) -> usize {
        match self {
            Card::DelayedSilent | Card::ProviderDown => 0,
            Card::WebhookTwice => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_choose_outcomes() {
        assert_eq!(
            card("tok_visa").map(Card::confirm),
            Some(Confirmed::Succeeded)
        );
        assert_eq!(
            card("tok_chargeDeclinedInsufficientFunds").map(Card::confirm),
            Some(Confirmed::Declined("insufficient_funds"))
        );
        assert_eq!(card("tok_delayed_silent").map(Card::deliveries), Some(0));
        assert_eq!(card("tok_webhook_twice").map(Card::deliveries), Some(2));
        assert_eq!(card("tok_unknown"), None);
        for (token, _) in CARDS {
            assert!(crate::payments::check_method(token).is_ok(), "{token}");
        }
    }
}
