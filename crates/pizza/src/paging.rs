//! Keyset pages: `?cursor=<id>&limit=<n>`, checked the same way for every
//! list that pages (the kitchen's queue, dead letters), and where a page ends.

use crate::error::ApiError;

/// Items per page unless `?limit=` says otherwise.
pub const DEFAULT_PAGE: i32 = 50;

/// The most items one page holds.
pub const MAX_PAGE: i32 = 100;

/// A checked `?cursor=&limit=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Only items with a bigger id: the last page's `next_cursor` (0: from the start).
    pub cursor: i64,
    /// At most this many items.
    pub limit: i32,
}

impl PageQuery {
    /// Checks `cursor` (0 or more; `what` names what its ids are, for the
    /// 400) and `limit` (1 to [`MAX_PAGE`]), each `None` when absent.
    pub fn parse(
        cursor: Option<&str>,
        limit: Option<&str>,
        what: &str,
    ) -> Result<PageQuery, ApiError> {
        let cursor = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .ok()
                .filter(|c: &i64| *c >= 0)
                .ok_or_else(|| ApiError::bad_request(format!("`cursor`: not {what}: {c:?}")))?,
        };
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(l) => l
                .parse()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("`limit`: 1 to {MAX_PAGE}, not {l:?}"))
                })?,
        };
        Ok(PageQuery { cursor, limit })
    }

    /// Cuts `found` (up to `limit` + 1 items, read so: one more tells that a
    /// next page exists) to the page; the next page's cursor, if there is one.
    pub fn cut<T>(&self, found: &mut Vec<T>, id: impl Fn(&T) -> i64) -> Option<i64> {
        let more = found.len() > self.limit as usize;
        found.truncate(self.limit as usize);
        more.then(|| found.last().map(id)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_the_next_cursor() {
        let page = PageQuery::parse(None, None, "an id").unwrap();
        assert_eq!((page.cursor, page.limit), (0, DEFAULT_PAGE));
        assert_eq!(
            PageQuery::parse(Some("-1"), None, "an id")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            PageQuery::parse(None, Some("0"), "an id")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            PageQuery::parse(None, Some("101"), "an id")
                .unwrap_err()
                .status,
            400
        );
        let two = PageQuery::parse(Some("7"), Some("2"), "an id").unwrap();
        let mut found = vec![8, 9, 10];
        assert_eq!(two.cut(&mut found, |n| *n), Some(9));
        assert_eq!(found, [8, 9]);
        assert_eq!(two.cut(&mut found, |n| *n), None);
    }
}
