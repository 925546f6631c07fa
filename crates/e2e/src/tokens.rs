//! Tokens made outside the app, the way an attacker or the old Django login
//! service would make them, to check what the app accepts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jwt_simple::prelude::*;

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs `header` and `payload` JSON with HMAC-SHA256 under `secret`.
pub fn sign(header: &str, payload: &str, secret: &str) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let tag = HS256Key::from_bytes(secret.as_bytes()).authentication_tag(input.as_bytes());
    format!("{input}.{}", B64.encode(tag))
}

/// A correctly signed HS256 token with the given claims JSON.
pub fn hs256(payload: &str, secret: &str) -> String {
    sign(r#"{"alg":"HS256","typ":"JWT"}"#, payload, secret)
}

/// An unsigned `alg: none` token.
pub fn alg_none(payload: &str) -> String {
    format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(payload)
    )
}
