//! Idempotent writes: a client that sends an `Idempotency-Key` may repeat its
//! request, after a timeout or a lost answer, and get the first answer back
//! instead of a second order (or, later, a second charge).
//!
//! The key, scoped to the member, is claimed by the same single SQL statement
//! that makes the write, so the write and the record of its answer commit
//! together; that statement also reads an answer already stored under the
//! key, so a request costs one round trip whether it writes or replays. From
//! what the statement reports this module decides what a request gets:
//! - a key whose answer is stored: that answer again, or 422 when the stored
//!   one was for a different request (by [`Fingerprint`]);
//! - a new key: the write, which claims it;
//! - a key claimed by a concurrent request that has not committed yet: that
//!   request's answer once it has, or 409 after a short wait.
//!
//! Only a write that was given a [`Claim`] can report the key as answered or
//! taken ([`Claim::answered`], [`Claim::taken`]), so neither can be expressed
//! without a key.

mod fingerprint;
mod key;

pub use fingerprint::Fingerprint;
pub use key::IdempotencyKey;

use crate::error::ApiError;

/// A request's key with its fingerprint: what a write claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The client's key.
    pub key: IdempotencyKey,
    /// The fingerprint of the request sent with it.
    pub fingerprint: Fingerprint,
}

impl Claim {
    /// The claim of a request: `None` without an `Idempotency-Key` header,
    /// 400 for a malformed one. `fingerprint` runs only when there is a key.
    pub fn from_header(
        header: Option<&str>,
        fingerprint: impl FnOnce() -> Fingerprint,
    ) -> Result<Option<Claim>, ApiError> {
        Ok(IdempotencyKey::from_header(header)?.map(|key| Claim {
            key,
            fingerprint: fingerprint(),
        }))
    }

    /// What a claiming write reports when another request holds the key.
    pub fn taken(&self) -> KeyTaken<'_> {
        KeyTaken(self)
    }

    /// What a claiming write reports when it found an answer committed under
    /// the key, and so wrote nothing.
    pub fn answered<T>(&self, stored: Stored<T>) -> Answered<'_, T> {
        Answered {
            claim: self,
            stored,
        }
    }
}

/// Proof that a write found its claim's key already held by another request.
#[derive(Debug, Clone, Copy)]
pub struct KeyTaken<'c>(&'c Claim);

/// An answer a write found committed under its claim's key.
#[derive(Debug)]
pub struct Answered<'c, T> {
    claim: &'c Claim,
    stored: Stored<T>,
}

/// What a write did.
#[derive(Debug)]
pub enum Write<'c, T> {
    /// It happened; `T` is its answer (also stored under the key, if any).
    Done(T),
    /// It did not: an answer is already stored under the key.
    Answered(Answered<'c, T>),
    /// It did not: a concurrent request holds the key.
    KeyTaken(KeyTaken<'c>),
}

/// An answer stored under a key, with the fingerprint of the request that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    /// The fingerprint of the first request.
    pub fingerprint: Fingerprint,
    /// Its answer.
    pub answer: T,
}

/// Pauses (ms) between reads of a concurrent winner's answer: each read is a
/// new statement, hence a new snapshot that can see the winner's commit.
const WINNER_BACKOFF_MS: [u64; 6] = [0, 2, 5, 10, 20, 40];

/// Answers a request at most once per claim: runs `write`, which writes or
/// finds the stored answer to replay, or waits for the concurrent request
/// that holds the key. `stored` reads the answer committed under a claim's
/// key, if any; only that wait calls it.
pub fn respond_once<'c, T>(
    claim: Option<&'c Claim>,
    stored: impl Fn(&Claim) -> Result<Option<Stored<T>>, ApiError>,
    write: impl FnOnce(Option<&'c Claim>) -> Result<Write<'c, T>, ApiError>,
) -> Result<T, ApiError> {
    match write(claim)? {
        Write::Done(answer) => Ok(answer),
        Write::Answered(Answered { claim, stored }) => replay(claim, stored),
        Write::KeyTaken(KeyTaken(claim)) => {
            for pause in WINNER_BACKOFF_MS {
                std::thread::sleep(std::time::Duration::from_millis(pause));
                if let Some(winner) = stored(claim)? {
                    return replay(claim, winner);
                }
            }
            Err(ApiError::conflict(
                "request with this Idempotency-Key is in progress",
            ))
        }
    }
}

/// The stored answer for the same request; 422 for a different one.
fn replay<T>(claim: &Claim, stored: Stored<T>) -> Result<T, ApiError> {
    if stored.fingerprint != claim.fingerprint {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used with a different request",
        ));
    }
    Ok(stored.answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::Cell;

    fn claim(body: i64) -> Claim {
        Claim::from_header(Some("k-1"), || Fingerprint::of(&json!(body)))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn without_a_key_the_write_runs_and_nothing_is_read() {
        let answer = respond_once(
            None,
            |_| panic!("no key, no read"),
            |claim| {
                assert!(claim.is_none());
                Ok(Write::Done(7))
            },
        );
        assert_eq!(answer.unwrap(), 7);
    }

    #[test]
    fn a_stored_answer_is_replayed_for_the_same_request_only() {
        fn found(claim: Option<&Claim>) -> Result<Write<'_, i32>, ApiError> {
            let stored = Stored {
                fingerprint: Fingerprint::of(&json!(1)),
                answer: 7,
            };
            Ok(Write::Answered(claim.unwrap().answered(stored)))
        }
        let no_read = |_: &Claim| -> Result<Option<Stored<i32>>, ApiError> {
            panic!("the write found the answer")
        };
        let c = claim(1);
        assert_eq!(respond_once(Some(&c), no_read, found).unwrap(), 7);
        let other = claim(2);
        let refused = respond_once(Some(&other), no_read, found);
        assert_eq!(refused.unwrap_err().status, 422);
    }

    #[test]
    fn a_concurrent_winner_is_awaited_then_replayed_or_409() {
        let c = claim(1);
        let reads = Cell::new(0);
        let answer = respond_once(
            Some(&c),
            |_| {
                reads.set(reads.get() + 1);
                Ok((reads.get() == 3).then(|| Stored {
                    fingerprint: claim(1).fingerprint,
                    answer: 9,
                }))
            },
            |claim| Ok(Write::KeyTaken(claim.unwrap().taken())),
        );
        assert_eq!(answer.unwrap(), 9);
        let never = respond_once(
            Some(&c),
            |_| Ok(None::<Stored<i32>>),
            |claim| Ok(Write::KeyTaken(claim.unwrap().taken())),
        );
        assert_eq!(never.unwrap_err().status, 409);
    }

    #[test]
    fn bad_keys_are_400_and_fingerprints_are_computed_only_with_a_key() {
        assert!(
            Claim::from_header(None, || panic!("no key, no fingerprint"))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            Claim::from_header(Some(""), || Fingerprint::of(&json!(1)))
                .unwrap_err()
                .status,
            400
        );
    }
}
