//! Live status by long-polling: a request with `?after=<version>` is answered
//! at the first change, or after [`LONGEST_WAIT`] with 304.
//!
//! Why long-polling (README, "Live status"): an instance that waits holds no
//! connection between checks and nothing outlives the request, so it works on
//! any Spin runtime and lets pods scale to zero; server-sent events would
//! hold the same instance open for minutes and need the same polling inside.
//! The wait checks one indexed integer every [`POLL_EVERY`], taking a pooled
//! connection only for that statement (Spin's pool has 64 and no wait
//! timeout: a waiter must never sit on one).

use crate::error::ApiError;
use std::time::Duration;

/// How long a request waits for a change before answering 304.
pub const LONGEST_WAIT: Duration = Duration::from_secs(25);

/// How often a waiting request looks; a change is seen within this.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// The `?after=` of a request: the version (or queue marker) the client has.
pub fn parse_after(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|v| {
        v.parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::bad_request(format!("`after`: not a version: {v:?}")))
    })
    .transpose()
}

/// What waiting found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// It is now at this version (or marker).
    Changed(i64),
    /// Nothing changed within [`LONGEST_WAIT`].
    Unchanged,
}

/// Waits until `current()` differs from `after`, looking every
/// [`POLL_EVERY`] (slept with `sleep`) for at most [`LONGEST_WAIT`].
pub fn wait_for_change<E>(
    after: i64,
    mut current: impl FnMut() -> Result<i64, E>,
    mut sleep: impl FnMut(Duration),
) -> Result<Watched, E> {
    let looks = LONGEST_WAIT.as_millis() / POLL_EVERY.as_millis();
    for _ in 0..looks {
        sleep(POLL_EVERY);
        let now = current()?;
        if now != after {
            return Ok(Watched::Changed(now));
        }
    }
    Ok(Watched::Unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_must_be_a_version() {
        assert_eq!(parse_after(None).unwrap(), None);
        assert_eq!(parse_after(Some("0")).unwrap(), Some(0));
        assert_eq!(parse_after(Some("17")).unwrap(), Some(17));
        for bad in ["", "-1", "x", "1.5", "99999999999999999999"] {
            assert_eq!(parse_after(Some(bad)).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn answers_at_the_first_change() {
        let mut versions = [3, 3, 4].into_iter();
        let mut slept = Duration::ZERO;
        let got = wait_for_change::<()>(3, || Ok(versions.next().unwrap()), |d| slept += d);
        assert_eq!(got, Ok(Watched::Changed(4)));
        assert_eq!(slept, 3 * POLL_EVERY);
    }

    #[test]
    fn gives_up_after_the_longest_wait() {
        let mut looks = 0;
        let mut slept = Duration::ZERO;
        let got = wait_for_change::<()>(
            5,
            || {
                looks += 1;
                Ok(5)
            },
            |d| slept += d,
        );
        assert_eq!(got, Ok(Watched::Unchanged));
        assert_eq!(slept, LONGEST_WAIT);
        assert_eq!(looks, 25);
    }

    #[test]
    fn a_failed_look_ends_the_wait() {
        let got = wait_for_change(1, || Err("down"), |_| {});
        assert_eq!(got, Err("down"));
    }
}
