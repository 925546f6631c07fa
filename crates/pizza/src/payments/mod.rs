//! Taking the money: the payment saga's rules, plain Rust.
//!
//! - [`saga`]: which step each outbox event asks for, and when a failed step
//!   is tried again or dead-lettered;
//! - [`gateway`]: what the relay asks the provider component, and its answers;
//! - [`provider`]: the adapter, the one module that knows the provider's wire
//!   API (payment intents, refunds, webhook events). Another provider of the
//!   same style is configuration; one of another style replaces this module;
//! - [`signature`]: webhook signatures (HMAC-SHA256 over timestamp and body);
//! - [`test_cards`]: what the test provider does for each test card token.

pub mod gateway;
pub mod provider;
pub mod saga;
pub mod signature;
pub mod test_cards;

/// The longest payment method token accepted, in bytes.
pub const METHOD_MAX: usize = 100;

/// Checks a payment method token (`tok_visa`, `pm_…`): 1 to [`METHOD_MAX`]
/// ASCII letters, digits and underscores.
pub fn check_method(method: &str) -> Result<(), crate::ApiError> {
    let ok = (1..=METHOD_MAX).contains(&method.len())
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(crate::ApiError::bad_request(format!(
            "`payment_method`: 1 to {METHOD_MAX} letters, digits or underscores"
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn methods_are_short_tokens() {
        assert!(super::check_method("tok_visa").is_ok());
        assert!(super::check_method("").is_err());
        assert!(super::check_method("tok visa").is_err());
        assert!(super::check_method(&"a".repeat(101)).is_err());
    }
}
