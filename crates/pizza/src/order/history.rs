//! One element of `GET /api/order/myorder/`.

use super::lifecycle::State;
use serde::Serialize;

/// One order line with its order's columns. Legacy rows (the data set's
/// nullable columns, lines placed before prices were kept) show `null` where
/// they have nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    /// The order's integer id.
    pub order_id: i64,
    /// The branch the order was placed at.
    pub bran_id: Option<String>,
    /// The pizza of this line.
    pub pizza_id: Option<String>,
    /// How many.
    pub quantity: Option<i32>,
    /// Shop-time date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Shop-time time of day, `HH:MM:SS`.
    pub time: Option<String>,
    /// The unit price at order time; `null` for legacy lines.
    pub unit_price: Option<serde_json::Number>,
    /// Where the order is in its life (legacy orders: `completed`); added
    /// after the old front end, which ignores it.
    pub state: State,
}
