//! The kitchen's queue: which of a branch's open orders a request asks for,
//! and the page it gets.

use super::lifecycle::State;
use super::view::ViewLine;
use crate::error::ApiError;
use crate::paging::PageQuery;
pub use crate::paging::{DEFAULT_PAGE, MAX_PAGE};
use serde::Serialize;

/// `GET /api/order/queue/?branch=..&state=..&cursor=..&limit=..`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueQuery {
    /// The branch (required).
    pub branch: String,
    /// The open states asked for (comma-separated; all open states if absent).
    pub states: Vec<State>,
    /// Only orders with a bigger id: the last page's `next_cursor` (0: from the start).
    pub cursor: i64,
    /// At most this many orders.
    pub limit: i32,
}

impl QueueQuery {
    /// Checks the query's parameters, each `None` when absent.
    pub fn parse(
        branch: Option<&str>,
        state: Option<&str>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> Result<QueueQuery, ApiError> {
        let branch = branch
            .filter(|b| !b.is_empty())
            .ok_or_else(|| ApiError::bad_request("`branch`: required"))?;
        let open: Vec<State> = State::ALL.into_iter().filter(|s| s.is_open()).collect();
        let states = match state.filter(|s| !s.is_empty()) {
            None => open.clone(),
            Some(list) => list
                .split(',')
                .map(|name| {
                    State::parse(name.trim())
                        .filter(|s| open.contains(s))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "`state`: {name:?} is not an open state ({})",
                                open.iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let PageQuery { cursor, limit } = PageQuery::parse(cursor, limit, "an order id")?;
        Ok(QueueQuery {
            branch: branch.to_owned(),
            states,
            cursor,
            limit,
        })
    }

    /// The page of `found` (up to `limit` + 1 orders, oldest first) at `marker`.
    pub fn page(&self, marker: i64, mut found: Vec<QueuedOrder>) -> QueuePage {
        let page = PageQuery {
            cursor: self.cursor,
            limit: self.limit,
        };
        QueuePage {
            branch: self.branch.clone(),
            marker,
            next_cursor: page.cut(&mut found, |o| o.order_id),
            orders: found,
        }
    }
}

/// One page of a branch's open orders, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuePage {
    /// The branch.
    pub branch: String,
    /// Grows with every change at the branch; wait for a bigger one with
    /// `?after=`.
    pub marker: i64,
    /// The orders of this page.
    pub orders: Vec<QueuedOrder>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<i64>,
}

/// An order as the kitchen's queue shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedOrder {
    /// Its id.
    pub order_id: i64,
    /// Who placed it.
    pub member_id: String,
    /// Shop-time date.
    pub date: Option<String>,
    /// Shop-time time of day.
    pub time: Option<String>,
    /// Where it is now.
    pub state: State,
    /// Its version, for `If-Match`.
    pub version: i64,
    /// What to bake.
    pub lines: Vec<ViewLine>,
    /// Where the kitchen may move it.
    pub next: Vec<State>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    fn order(order_id: i64) -> QueuedOrder {
        QueuedOrder {
            order_id,
            member_id: "m".into(),
            date: None,
            time: None,
            state: Placed,
            version: 1,
            lines: Vec::new(),
            next: Vec::new(),
        }
    }

    #[test]
    fn defaults_are_every_open_state_from_the_start() {
        let q = QueueQuery::parse(Some("b1"), None, None, None).unwrap();
        assert_eq!(q.states, [Placed, Paid, Accepted, Baking, Ready]);
        assert_eq!((q.cursor, q.limit), (0, DEFAULT_PAGE));
        let q = QueueQuery::parse(Some("b1"), Some("ready, placed"), Some("9"), Some("2"));
        let q = q.unwrap();
        assert_eq!((q.states, q.cursor, q.limit), (vec![Ready, Placed], 9, 2));
    }

    #[test]
    fn bad_parameters_are_400() {
        let bad = [
            (None, None, None, None),
            (Some(""), None, None, None),
            (Some("b"), Some("completed"), None, None),
            (Some("b"), Some("cancelled"), None, None),
            (Some("b"), Some("PLACED"), None, None),
            (Some("b"), None, Some("-1"), None),
            (Some("b"), None, Some("x"), None),
            (Some("b"), None, None, Some("0")),
            (Some("b"), None, None, Some("101")),
        ];
        for (branch, state, cursor, limit) in bad {
            let e = QueueQuery::parse(branch, state, cursor, limit).unwrap_err();
            assert_eq!(e.status, 400, "{branch:?} {state:?} {cursor:?} {limit:?}");
        }
    }

    #[test]
    fn a_page_says_where_the_next_begins() {
        let q = QueueQuery::parse(Some("b1"), None, None, Some("2")).unwrap();
        let full = q.page(7, vec![order(3), order(5), order(8)]);
        assert_eq!(full.orders.len(), 2);
        assert_eq!(full.next_cursor, Some(5));
        let last = q.page(7, vec![order(3), order(5)]);
        assert_eq!(last.next_cursor, None);
    }
}
