//! Configuration from Spin variables.
//!
//! A missing or unusable setting is the operator's mistake, not the client's:
//! it is logged loudly and answered with 503 so that readiness probes and
//! clients see the service as not ready, and nothing is served half-configured.

use crate::error::ApiError;
use crate::token::TokenKey;

/// A component variable, or 503 if the manifest does not provide it.
pub fn variable(name: &str) -> Result<String, ApiError> {
    spin_sdk::variables::get(name).map_err(|e| {
        eprintln!("configuration error: variable {name:?}: {e}");
        ApiError::unavailable("service misconfigured")
    })
}

/// A component variable that may be absent for this component.
pub fn optional_variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// The token key from `jwt_secret`; a secret under 32 bytes refuses to serve.
pub fn token_key() -> Result<TokenKey, ApiError> {
    TokenKey::new(&variable("jwt_secret")?).map_err(|e| {
        eprintln!("configuration error: {e}");
        ApiError::unavailable("service misconfigured")
    })
}

/// Seconds since the Unix epoch, from the WASI wall clock.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
