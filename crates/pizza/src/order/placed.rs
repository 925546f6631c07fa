//! The answer to a placed order: 201 `{order_id, total, message}`.

use serde_json::{Number, Value, json};

/// The `message` of a placed order (the old monolith's front end reads it).
pub const PLACED_MESSAGE: &str = "order placed";

/// A placed order as its answer needs it, and as an idempotent replay stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The new order's id.
    pub order_id: i64,
    /// Its total, as a JSON number with the value of the exact decimal.
    pub total: Number,
}

impl PlacedOrder {
    /// The 201 body. A replay rebuilds it from the stored id and total, so
    /// both answers are identical.
    pub fn body(&self) -> Value {
        json!({
            "order_id": self.order_id,
            "total": self.total,
            "message": PLACED_MESSAGE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menu::price_number;

    fn placed(order_id: i64, total: &str) -> PlacedOrder {
        PlacedOrder {
            order_id,
            total: price_number(total).unwrap(),
        }
    }

    #[test]
    fn the_body_has_an_integer_id_and_an_exact_total() {
        assert_eq!(
            placed(42, "71.90").body().to_string(),
            r#"{"message":"order placed","order_id":42,"total":71.9}"#
        );
        assert_eq!(placed(1, "16.00").body()["total"].to_string(), "16.0");
    }
}
