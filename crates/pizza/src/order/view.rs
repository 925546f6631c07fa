//! What `GET /api/order/{id}/` shows of an order, and its `ETag`.

use super::lifecycle::{Actor, State, next_states};
use serde::{Deserialize, Serialize};

/// One line of an order, at the price it was placed at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewLine {
    /// The pizza.
    pub pizza_id: String,
    /// How many.
    pub quantity: i32,
    /// The unit price captured at order time; `null` for legacy lines.
    pub unit_price: Option<serde_json::Number>,
}

/// One step of an order's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The state it left (`null` for placing it).
    pub from: Option<String>,
    /// The state it entered.
    pub to: String,
    /// Who moved it.
    pub by: String,
    /// As what: `member` or `staff`.
    pub role: String,
    /// Why, when given.
    pub reason: Option<String>,
    /// When, in UTC (RFC 3339).
    pub at: String,
    /// The order's version after this step.
    pub version: i64,
}

/// An order with its lines, state, history and version (its ETag).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderView {
    /// Its id.
    pub order_id: i64,
    /// Who placed it.
    pub member_id: String,
    /// Where.
    pub bran_id: String,
    /// Shop-time date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Shop-time time of day, `HH:MM:SS`.
    pub time: Option<String>,
    /// Where it is now.
    pub state: State,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i64,
    /// The sum of its lines, `null` when a legacy line has no price.
    pub total: Option<serde_json::Number>,
    /// What it holds.
    pub lines: Vec<ViewLine>,
    /// How it got here, oldest first (empty for legacy orders).
    pub history: Vec<Step>,
    /// The states the asker may move it to (see [`super::lifecycle`]).
    pub next: Vec<State>,
}

impl OrderView {
    /// Fills in [`OrderView::next`] for someone who may act as each of `actors`.
    pub fn for_actors(mut self, actors: &[Actor]) -> OrderView {
        let mut next = Vec::new();
        for by in actors {
            for state in next_states(self.state, *by) {
                if !next.contains(&state) {
                    next.push(state);
                }
            }
        }
        self.next = next;
        self
    }
}

/// The `ETag` of an order at `version`: the quoted number.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names: one strong tag (`"3"`); weak
/// tags, lists and `*` name none, so every change says what it saw.
pub fn if_match_version(header: &str) -> Option<i64> {
    let tag = header.trim().strip_prefix('"')?.strip_suffix('"')?;
    tag.parse().ok().filter(|v: &i64| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_one_strong_version() {
        assert_eq!(if_match_version("\"3\""), Some(3));
        assert_eq!(if_match_version(" \"12\" "), Some(12));
        for refused in [
            "3",
            "W/\"3\"",
            "*",
            "\"3\", \"4\"",
            "\"0\"",
            "\"-1\"",
            "\"x\"",
        ] {
            assert_eq!(if_match_version(refused), None, "{refused}");
        }
        assert_eq!(if_match_version(&etag(7)), Some(7));
    }
}
