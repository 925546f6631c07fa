//! The SQL of the shop, one module per table owner (login owns `member` and
//! its own state; menu the catalogue; order branches, orders and their lines,
//! idempotency keys and the outbox; admin the changes of prices, sold-out
//! pizzas, branches, roles and token cutoffs, with their audit). Every value a statement uses is a bound
//! parameter; nothing else in the project writes SQL for these tables.

pub mod admin;
pub mod cart;
pub mod login;
pub mod menu;
pub mod order;
pub mod payment;
pub mod relay;
pub mod test_provider;

use crate::db::{DbError, text};
use crate::token::VerifiedToken;
use spin_sdk::pg4::ParameterValue;

/// What `token_revoked(jti, member, issued_at)` (migration 0015) asks of a
/// token, the check every statement serving a token makes: its revocation id,
/// its member and its `iat`.
fn revocation_params(token: &VerifiedToken) -> [ParameterValue; 3] {
    [
        text(&token.revocation_id),
        text(&token.member_id),
        ParameterValue::Int64(token.issued_at as i64),
    ]
}

/// A price column read as decimal text, as a JSON number.
fn price(decimal: &str) -> Result<serde_json::Number, DbError> {
    crate::menu::price_number(decimal)
        .ok_or_else(|| DbError::Failed(format!("not a decimal price: {decimal:?}")))
}
