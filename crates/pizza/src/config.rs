//! Configuration from Spin variables.
//!
//! A missing or unusable setting is the operator's mistake, not the client's:
//! it is answered with 503 (the cause goes to the log with the request) so that
//! readiness probes and clients see the service as not ready, and nothing is
//! served half-configured.

use crate::error::ApiError;
use crate::password::WriteFormat;
use crate::token::TokenKey;

/// The shop's zone when `shop_timezone` is unset or blank (the Django services
/// wrote Seoul wall-clock time).
pub const DEFAULT_SHOP_TIMEZONE: &str = "Asia/Seoul";

/// Orders per member per ten minutes when `member_order_limit` is unset.
pub const DEFAULT_MEMBER_ORDER_LIMIT: i32 = 20;

fn misconfigured(cause: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable("service misconfigured")
        .with_cause(format!("configuration error: {cause}"))
}

/// A component variable, or 503 if the manifest does not provide it.
pub fn variable(name: &str) -> Result<String, ApiError> {
    spin_sdk::variables::get(name).map_err(|e| misconfigured(format!("variable {name:?}: {e}")))
}

/// A component variable that may be absent for this component.
pub fn optional_variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// The token key from `jwt_secret`; a secret under 32 bytes refuses to serve.
/// In Django coexistence mode it also accepts the Django login's tokens.
pub fn token_key() -> Result<TokenKey, ApiError> {
    let key = TokenKey::new(&variable("jwt_secret")?).map_err(misconfigured)?;
    Ok(key.accepting_django_tokens(django_coexistence()?))
}

/// Whether the Django services still share the database (`django_coexistence`,
/// `true` or `false`; off when the component does not declare it). While on,
/// passwords are written in a format Django verifies and Django's tokens are
/// accepted; see `docs/deploy.md`'s runbook for when to switch it off.
pub fn django_coexistence() -> Result<bool, ApiError> {
    match optional_variable("django_coexistence").as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(misconfigured(format!(
            "django_coexistence is {other:?}, not true or false"
        ))),
    }
}

/// The password format to write, from [`django_coexistence`].
pub fn password_format() -> Result<WriteFormat, ApiError> {
    Ok(WriteFormat::for_coexistence(django_coexistence()?))
}

/// The shop's time zone: the `shop_timezone` variable, else [`DEFAULT_SHOP_TIMEZONE`].
/// Whether PostgreSQL knows the zone is checked by the statement that uses it.
pub fn shop_timezone() -> String {
    shop_timezone_from(optional_variable("shop_timezone"))
}

fn shop_timezone_from(configured: Option<String>) -> String {
    configured
        .map(|z| z.trim().to_owned())
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| DEFAULT_SHOP_TIMEZONE.to_owned())
}

/// How many proxies in front of the app append to `X-Forwarded-For` and are
/// trusted to (`trusted_proxy_hops`, default 0: the peer is the client).
pub fn trusted_proxy_hops() -> Result<usize, ApiError> {
    match optional_variable("trusted_proxy_hops") {
        None => Ok(0),
        Some(hops) => hops
            .trim()
            .parse()
            .map_err(|_| misconfigured(format!("trusted_proxy_hops is {hops:?}, not a number"))),
    }
}

/// Orders one member may place per ten minutes (`member_order_limit`, default
/// [`DEFAULT_MEMBER_ORDER_LIMIT`]; 0 switches the limit off, e.g. for an account
/// that orders for many customers).
pub fn member_order_limit() -> Result<i32, ApiError> {
    match optional_variable("member_order_limit") {
        None => Ok(DEFAULT_MEMBER_ORDER_LIMIT),
        Some(limit) => limit
            .trim()
            .parse()
            .ok()
            .filter(|l: &i32| *l >= 0)
            .ok_or_else(|| misconfigured(format!("member_order_limit is {limit:?}, not a count"))),
    }
}

/// Tries before the relay dead-letters a saga event (`relay_max_attempts`,
/// default [`crate::payments::saga::DEFAULT_MAX_ATTEMPTS`], at least 1).
pub fn relay_max_attempts() -> Result<i32, ApiError> {
    match optional_variable("relay_max_attempts") {
        None => Ok(crate::payments::saga::DEFAULT_MAX_ATTEMPTS),
        Some(n) => n
            .trim()
            .parse()
            .ok()
            .filter(|n: &i32| *n >= 1)
            .ok_or_else(|| misconfigured(format!("relay_max_attempts is {n:?}, not a count"))),
    }
}

/// Seconds since the Unix epoch, from the WASI wall clock.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_timezone_defaults_to_seoul() {
        assert_eq!(shop_timezone_from(None), "Asia/Seoul");
        assert_eq!(shop_timezone_from(Some(" ".into())), "Asia/Seoul");
        assert_eq!(
            shop_timezone_from(Some("Europe/London".into())),
            "Europe/London"
        );
    }
}
