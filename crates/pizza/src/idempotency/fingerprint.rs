//! What tells a replay from a different request under the same key.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of a request's canonical form: equal for two requests that
/// mean the same, different as soon as anything that matters differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `canonical`, a JSON value the caller builds from the
    /// parsed request (so that key order, spacing and number spelling in the
    /// body do not count).
    pub fn of(canonical: &Value) -> Fingerprint {
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        Fingerprint(crate::hex::encode(&digest))
    }

    /// A fingerprint as the store kept it.
    pub fn from_stored(hex: String) -> Fingerprint {
        Fingerprint(hex)
    }

    /// The hex text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_give_equal_fingerprints() {
        let a = Fingerprint::of(&json!(["1", [["P", "S", 2]]]));
        assert_eq!(a, Fingerprint::of(&json!(["1", [["P", "S", 2]]])));
        assert_ne!(a, Fingerprint::of(&json!(["1", [["P", "S", 3]]])));
        assert_eq!(a.as_str().len(), 64);
    }
}
