//! Webhook signatures in the payment-intent providers' common scheme: a
//! header `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//!
//! Signing over the timestamp as well as the body bounds a captured
//! delivery's life: [`verify`] refuses one older than [`MAX_AGE_SECS`], and
//! the webhook endpoint remembers the signatures it accepted within that
//! window, so the same signature twice is a replay.

use crate::hex;

/// How old (or how far ahead of our clock) a signature's timestamp may be.
pub const MAX_AGE_SECS: u64 = 300;

/// The signature header's value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(&mac(secret, timestamp, body))
    )
}

fn keyed(secret: &[u8], timestamp: u64, body: &[u8]) -> hmac_sha256::HMAC {
    let mut mac = hmac_sha256::HMAC::new(secret);
    mac.update(timestamp.to_string());
    mac.update(b".");
    mac.update(body);
    mac
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> [u8; 32] {
    keyed(secret, timestamp, body).finalize()
}

/// Why a signature is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// No `t=` with digits, or no `v1=` of 64 hex digits.
    Malformed,
    /// No `v1=` matches the body and timestamp under our secret.
    Mismatch,
    /// Signed more than [`MAX_AGE_SECS`] ago, or that far in the future.
    Stale,
}

impl Invalid {
    /// The 400's message.
    pub fn message(self) -> &'static str {
        match self {
            Invalid::Malformed => "malformed signature header",
            Invalid::Mismatch => "signature does not match",
            Invalid::Stale => "signature is older than 5 minutes",
        }
    }
}

/// Checks `header` against `body` at `now` (Unix seconds): Ok with the
/// signed timestamp, or why not. Several `v1=` (a provider rolling its
/// secret) pass if one matches; the comparison takes the same time for any
/// wrong signature.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: u64) -> Result<u64, Invalid> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                timestamp = t.parse::<u64>().ok();
            }
            Some(("v1", v)) => candidates.extend(decode_mac(v)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Invalid::Malformed)?;
    if candidates.is_empty() {
        return Err(Invalid::Malformed);
    }
    if now.abs_diff(timestamp) > MAX_AGE_SECS {
        return Err(Invalid::Stale);
    }
    let matches = candidates
        .iter()
        .any(|c| keyed(secret, timestamp, body).finalize_verify(c));
    if matches {
        Ok(timestamp)
    } else {
        Err(Invalid::Mismatch)
    }
}

/// What identifies a signed delivery however its header is spelt: its
/// timestamp and the SHA-256 of its body. The same delivery twice within the
/// window is a replay; a redelivery is signed at another second.
pub fn delivery_id(timestamp: u64, body: &[u8]) -> String {
    use sha2::Digest;
    format!("{timestamp}.{}", hex::encode(&sha2::Sha256::digest(body)))
}

/// 64 hex digits as 32 bytes.
fn decode_mac(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    #[test]
    fn a_fresh_signature_verifies() {
        let header = sign(SECRET, 1_000_000, BODY);
        assert_eq!(verify(SECRET, &header, BODY, 1_000_010), Ok(1_000_000));
    }

    #[test]
    fn another_body_secret_or_timestamp_does_not() {
        let header = sign(SECRET, 1_000_000, BODY);
        assert_eq!(
            verify(SECRET, &header, b"{}", 1_000_000),
            Err(Invalid::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, BODY, 1_000_000),
            Err(Invalid::Mismatch)
        );
        let moved = header.replace("t=1000000", "t=1000001");
        assert_eq!(
            verify(SECRET, &moved, BODY, 1_000_000),
            Err(Invalid::Mismatch)
        );
    }

    #[test]
    fn older_than_five_minutes_is_stale() {
        let header = sign(SECRET, 1_000_000, BODY);
        assert_eq!(verify(SECRET, &header, BODY, 1_000_300), Ok(1_000_000));
        assert_eq!(
            verify(SECRET, &header, BODY, 1_000_301),
            Err(Invalid::Stale)
        );
        assert_eq!(verify(SECRET, &header, BODY, 999_699), Err(Invalid::Stale));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in ["", "t=1", "v1=00", "t=x,v1=ab", "t=1,v1=zz"] {
            assert_eq!(
                verify(SECRET, header, BODY, 1),
                Err(Invalid::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn a_delivery_is_its_timestamp_and_body() {
        assert_eq!(delivery_id(5, BODY), delivery_id(5, BODY));
        assert_ne!(delivery_id(5, BODY), delivery_id(6, BODY));
        assert_ne!(delivery_id(5, BODY), delivery_id(5, b"{}"));
        assert_eq!(delivery_id(5, BODY).len(), 66);
    }

    #[test]
    fn one_matching_v1_of_several_is_enough() {
        let good = sign(SECRET, 5, BODY);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t=5,v1={},v1={v1}", "0".repeat(64));
        assert_eq!(verify(SECRET, &header, BODY, 5), Ok(5));
    }
}
