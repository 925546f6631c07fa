//! A member's cart, `GET`/`PUT /api/order/cart/`: the order to be, kept in
//! PostgreSQL (`cart`, migration 0016) so it survives any instance.
//!
//! A cart is validated like an order (the same lines and limits), except that
//! it may be empty. Its prices are shown, not promised: checkout places the
//! order at the prices of that moment. Each `PUT` replaces the whole cart and
//! names the version it replaces in `If-Match` (`"0"` before the first), so
//! two devices of one member cannot overwrite each other unseen.

use crate::body::Fields;
use crate::error::ApiError;
use crate::order::view::if_match_version;
use crate::order::{NewOrder, OrderLine};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// A cart as a `PUT` sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartContent {
    /// The branch it will be ordered from.
    pub branch_id: String,
    /// 0 to [`crate::order::MAX_LINES`] lines.
    pub lines: Vec<OrderLine>,
}

impl CartContent {
    /// Reads `{branchId, lines: [{name, size, quantity}]}` with the order's
    /// rules; `lines` may be empty.
    pub fn parse(fields: &Fields) -> Result<CartContent, ApiError> {
        if matches!(fields.get("lines"), Some(Value::Array(lines)) if lines.is_empty()) {
            let branch_id = fields.required_str("branchId")?;
            if branch_id.is_empty() {
                return Err(ApiError::bad_request("`branchId` must not be empty"));
            }
            return Ok(CartContent {
                branch_id: branch_id.to_owned(),
                lines: Vec::new(),
            });
        }
        let order = NewOrder::parse(fields)?;
        Ok(CartContent {
            branch_id: order.branch_id,
            lines: order.lines,
        })
    }
}

/// The version a cart `PUT` replaces: `If-Match: "<version>"`, `"0"` for a
/// member who has no cart yet. 428 without one, 400 for anything else.
pub fn expected_version(header: Option<&str>) -> Result<i64, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::precondition_required(
            "`If-Match` with the cart's version (its ETag; \"0\" for a new cart) is required",
        )
    })?;
    if header.trim() == "\"0\"" {
        return Ok(0);
    }
    if_match_version(header)
        .ok_or_else(|| ApiError::bad_request("`If-Match` must be one strong ETag such as \"3\""))
}

/// One line as the cart shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    /// The pizza type's name.
    pub name: String,
    /// Its size.
    pub size: String,
    /// How many.
    pub quantity: i32,
    /// Today's price of one (not promised), or null when it is no longer on
    /// the menu.
    pub unit_price: Option<Number>,
    /// Whether it can be ordered now (on the menu and not sold out).
    pub available: bool,
}

/// A cart as `GET` and `PUT` answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartView {
    /// The branch, or null for a member who never filled a cart.
    #[serde(rename = "branchId")]
    pub branch_id: Option<String>,
    /// The lines, in the order put.
    pub lines: Vec<CartLine>,
    /// The sum of today's prices of the available lines.
    pub total: Number,
    /// The version `If-Match` names (also the `ETag`); 0 before the first `PUT`.
    pub version: i64,
}

impl CartView {
    /// The order checkout places from it: `None` for an empty cart.
    pub fn order(&self) -> Option<NewOrder> {
        let branch_id = self.branch_id.clone()?;
        if self.lines.is_empty() {
            return None;
        }
        let lines = self
            .lines
            .iter()
            .map(|l| OrderLine {
                name: l.name.clone(),
                size: l.size.clone(),
                quantity: l.quantity,
            })
            .collect();
        Some(NewOrder { branch_id, lines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<CartContent, ApiError> {
        CartContent::parse(&Fields::parse(None, body.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn a_cart_is_an_order_that_may_be_empty() {
        let empty = parse(json!({"branchId": "1", "lines": []})).unwrap();
        assert!(empty.lines.is_empty());
        let line = json!({"name": "The Greek Pizza", "size": "M", "quantity": 2});
        let one = parse(json!({"branchId": "1", "lines": [line]})).unwrap();
        assert_eq!(one.lines[0].quantity, 2);
        assert_eq!(parse(json!({"lines": []})).unwrap_err().status, 400);
        assert_eq!(
            parse(json!({"branchId": "", "lines": []}))
                .unwrap_err()
                .status,
            400
        );
        let bad = json!({"name": "The Greek Pizza", "size": "M", "quantity": 0});
        assert_eq!(
            parse(json!({"branchId": "1", "lines": [bad]}))
                .unwrap_err()
                .status,
            400
        );
        let many: Vec<Value> = (0..51).map(|_| line_of(1)).collect();
        assert_eq!(
            parse(json!({"branchId": "1", "lines": many}))
                .unwrap_err()
                .status,
            400
        );
    }

    fn line_of(quantity: i64) -> Value {
        json!({"name": "The Greek Pizza", "size": "M", "quantity": quantity})
    }

    #[test]
    fn if_match_names_the_version_replaced() {
        assert_eq!(expected_version(Some("\"0\"")).unwrap(), 0);
        assert_eq!(expected_version(Some("\"4\"")).unwrap(), 4);
        assert_eq!(expected_version(None).unwrap_err().status, 428);
        assert_eq!(expected_version(Some("*")).unwrap_err().status, 400);
        assert_eq!(expected_version(Some("W/\"4\"")).unwrap_err().status, 400);
    }
}
