//! The `Idempotency-Key` header.

use crate::error::ApiError;

/// Longest key accepted (`order_idempotency.idem_key` is varchar(255)).
pub const MAX_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1 to [`MAX_LEN`] printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key of a request, if it sent one; a malformed key is 400.
    pub fn from_header(header: Option<&str>) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(key) = header else { return Ok(None) };
        let printable = key.bytes().all(|b| (b' '..=b'~').contains(&b));
        if key.is_empty() || key.len() > MAX_LEN || !printable {
            return Err(ApiError::bad_request(format!(
                "`Idempotency-Key` must be 1 to {MAX_LEN} printable ASCII characters"
            )));
        }
        Ok(Some(IdempotencyKey(key.to_owned())))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str) -> Result<Option<IdempotencyKey>, ApiError> {
        IdempotencyKey::from_header(Some(header))
    }

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        assert_eq!(IdempotencyKey::from_header(None).unwrap(), None);
        assert_eq!(parse("abc-123 ~").unwrap().unwrap().as_str(), "abc-123 ~");
        assert!(parse(&"k".repeat(255)).is_ok());
        for bad in ["", "tab\there", "é", "nul\0"] {
            assert_eq!(parse(bad).unwrap_err().status, 400, "{bad:?}");
        }
        assert!(parse(&"k".repeat(256)).is_err());
    }
}
