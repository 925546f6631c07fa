//! The sales dashboard's question (`GET /api/admin/sales/?from=&to=&branch=`),
//! checked before any SQL runs: days as ISO dates that exist, `from` not
//! after `to`, a branch id of 1 to 100 characters.

use crate::error::ApiError;

/// Days `from` to `to` (inclusive; `None`: no bound) of one branch or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesQuery {
    /// The first day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// One branch's id.
    pub branch: Option<String>,
}

impl SalesQuery {
    /// The query from its parameters, each `None` (or empty) when absent; 400
    /// naming the parameter otherwise.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        branch: Option<&str>,
    ) -> Result<SalesQuery, ApiError> {
        let day = |name: &str, value: Option<&str>| match value.filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if is_date(v) => Ok(Some(v.to_owned())),
            Some(v) => Err(ApiError::bad_request(format!(
                "`{name}`: a date as YYYY-MM-DD, not {v:?}"
            ))),
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if let (Some(f), Some(t)) = (&from, &to)
            && f > t
        {
            return Err(ApiError::bad_request(format!(
                "`from` ({f}) is after `to` ({t})"
            )));
        }
        let branch = match branch.filter(|b| !b.is_empty()) {
            Some(b) if b.chars().count() > 100 => {
                return Err(ApiError::bad_request("`branch`: at most 100 characters"));
            }
            b => b.map(str::to_owned),
        };
        Ok(SalesQuery { from, to, branch })
    }
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_exist() {
        for good in ["2015-01-01", "2016-02-29", "2015-12-31"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "2015-02-29",
            "2015-13-01",
            "2015-1-01",
            "15-01-01",
            "2015-01-32",
            "2015/01/01",
            "2015-00-10",
            "２０15-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn the_range_and_the_branch_are_checked() {
        let q = SalesQuery::parse(Some("2015-01-01"), Some("2015-01-31"), Some("2")).unwrap();
        assert_eq!(q.branch.as_deref(), Some("2"));
        assert_eq!(SalesQuery::parse(None, Some(""), None).unwrap().to, None);
        let e = SalesQuery::parse(Some("2015-02-01"), Some("2015-01-31"), None).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("after"), "{}", e.detail);
        let e = SalesQuery::parse(Some("yesterday"), None, None).unwrap_err();
        assert!(e.detail.contains("`from`"), "{}", e.detail);
        let long = "x".repeat(101);
        assert_eq!(
            SalesQuery::parse(None, None, Some(&long))
                .unwrap_err()
                .status,
            400
        );
    }
}
