//! Serving a request that moves an order (`POST /api/order/{id}/cancel/`
//! and `/transition/`): the order id from the path, the version from
//! `If-Match`, the rules of [`crate::order::lifecycle`], the one transition
//! statement, and its outcome as an answer.
//!
//! | outcome | answer |
//! |---|---|
//! | moved | 200 `{order_id, state, version}` with the new `ETag` |
//! | no `If-Match` | 428 |
//! | no such order, or another member's (cancel) | 404 |
//! | staff of another branch (transition) | 403 |
//! | `If-Match` is not the current version, or a concurrent move won | 412 with the current `ETag` |
//! | the table has no such move from the current state | 409 `{state, allowed}` |
//! | a move that needs a reason without one | 400 |

use crate::auth::SignedToken;
use crate::body::Fields;
use crate::db::Db;
use crate::error::ApiError;
use crate::http::{Req, json_response};
use crate::order::lifecycle::{Actor, MAX_REASON_CHARS, Refusal, State, check, sources};
use crate::order::view::{etag, if_match_version};
use crate::store::order::lifecycle::{self as store, Move, Moved};
use spin_sdk::http::Response;

/// The order id of the request's `:id` path segment; anything but a positive
/// 32-bit integer is 404, as no order has it.
pub fn order_id(req: &Req) -> Result<i32, ApiError> {
    req.path_param("id")
        .and_then(|id| id.parse::<i32>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(no_such_order)
}

/// 404 for an order the asker cannot see.
pub fn no_such_order() -> ApiError {
    ApiError::not_found("no such order")
}

/// The optional `reason` of a move's body (an empty body has none); at
/// most [`MAX_REASON_CHARS`] characters.
pub fn reason(fields: &Fields) -> Result<Option<String>, ApiError> {
    let reason = fields.optional_str("reason")?.map(str::trim);
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(ApiError::bad_request(format!(
            "`reason`: at most {MAX_REASON_CHARS} characters"
        ))),
        Some("") | None => Ok(None),
        Some(r) => Ok(Some(r.to_owned())),
    }
}

/// The body's fields, an empty body being an empty object.
pub fn fields(req: &Req) -> Result<Fields, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Fields::parse(None, b"{}");
    }
    req.fields()
}

/// The order a move request names and the version it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The order, from the `:id` path segment.
    pub order_id: i32,
    /// Its version, from `If-Match`.
    pub version: i64,
}

impl Target {
    /// The request's order and `If-Match` version: 404 for an id no order
    /// has, 428 without `If-Match`, 412 for one that names no version.
    pub fn from_request(req: &Req) -> Result<Target, ApiError> {
        let order_id = order_id(req)?;
        let tag = req.header("if-match").ok_or_else(|| {
            ApiError::precondition_required("send If-Match with the order's ETag")
        })?;
        let version = if_match_version(tag).ok_or_else(|| {
            ApiError::precondition_failed(format!(
                "If-Match {tag:?} is not an order version (send the ETag, like \"3\")"
            ))
        })?;
        Ok(Target { order_id, version })
    }
}

/// Moves `target` to `to` as `by`, giving `reason`, on the request's
/// connection `db`.
pub fn serve_move(
    req: &Req,
    db: &Db,
    token: &SignedToken,
    target: Target,
    to: State,
    by: Actor,
    reason: Option<&str>,
) -> Result<Response, ApiError> {
    let Target { order_id, version } = target;
    let from = sources(to, by, reason);
    let step = Move {
        order_id,
        to,
        from: &from,
        version,
        by,
        reason,
    };
    match store::transition(db, &step, token.verified())?.granted()? {
        Moved::Done { version } => {
            req.note_event(format!("order.{}", to.as_str()));
            let mut answer = json_response(
                200,
                &serde_json::json!({"order_id": order_id, "state": to, "version": version}),
            );
            answer.set_header("etag", etag(version));
            Ok(answer)
        }
        Moved::NoSuchOrder => Err(no_such_order()),
        Moved::NotPermitted => Err(match by {
            Actor::Member => no_such_order(),
            Actor::Staff | Actor::System => ApiError::forbidden("not staff of this order's branch"),
        }),
        Moved::Unmoved {
            state,
            version: now,
        } => Err(refusal(state, now, version, to, by, reason)),
    }
}

/// Why an order at `state`/`now` did not move to `to` for a request that
/// saw version `seen`.
fn refusal(
    state: State,
    now: i64,
    seen: i64,
    to: State,
    by: Actor,
    reason: Option<&str>,
) -> ApiError {
    let stale = || {
        ApiError::precondition_failed(format!(
            "the order changed: it is at version {now}, not {seen}"
        ))
        .with_header("etag", etag(now))
        .with_field("version", now)
    };
    if now != seen {
        return stale();
    }
    match check(state, to, by, reason) {
        Err(Refusal::Illegal { current, allowed }) => ApiError::conflict(format!(
            "an order that is {} cannot become {}",
            current.as_str(),
            to.as_str()
        ))
        .with_field("state", current.as_str())
        .with_field(
            "allowed",
            allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ),
        Err(Refusal::ReasonRequired) => ApiError::bad_request(format!(
            "`reason`: required to make an order {}",
            to.as_str()
        )),
        // Legal from what the statement saw, yet not moved: a concurrent move
        // of the same version won.
        Ok(()) => stale(),
    }
}
