//! The SQL of the shop, one module per table owner (login owns `member` and
//! its own state; menu the catalogue; order branches, orders and their lines,
//! idempotency keys and the outbox). Every value a statement uses is a bound
//! parameter; nothing else in the project writes SQL for these tables.

pub mod login;
pub mod menu;
pub mod order;

use crate::db::DbError;

/// A price column read as decimal text, as a JSON number.
fn price(decimal: &str) -> Result<serde_json::Number, DbError> {
    crate::menu::price_number(decimal)
        .ok_or_else(|| DbError::Failed(format!("not a decimal price: {decimal:?}")))
}
