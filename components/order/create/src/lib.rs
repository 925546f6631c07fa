//! `POST /api/order/` with a Bearer token and `{branchId, lines: [{name,
//! size, quantity}]}` → 201 `{order_id, total, message}`.
//!
//! - 401 `{"detail": "unauthorized"}` without a valid, unrevoked token,
//!   checked before the body.
//! - 400 naming the offending field or line: an unknown branch, 0 or more
//!   than 50 lines, a name-and-size pair that is not on the menu, a quantity
//!   outside 1..=99.
//! - The order is placed by one SQL statement (see `pizza::store::order`):
//!   atomic, with unit prices, shop-time `date`/`time` and an outbox event.
//! - `Idempotency-Key`: a replay by the same member gets the original 201 and
//!   creates nothing; the same key with a different body gets 422; a
//!   duplicate still being placed by a concurrent request gets 409.

use pizza::body::Fields;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::order::{self, NewOrder};
use pizza::store::order::{self as store, Idempotency, Placement};
use pizza::{ApiError, auth, config};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], create).await
}

fn create(req: Req) -> Result<Response, ApiError> {
    let db = Db::connect()?;
    let member = auth::authenticate(&req, &db)?;
    if member.member_id.chars().count() > pizza::member::ID_MAX {
        return Err(ApiError::new(
            403,
            "member ids longer than 50 characters cannot place orders",
        ));
    }
    let new_order = NewOrder::parse(&Fields::parse(req.header("content-type"), &req.body)?)?;
    let key = order::idempotency_key(req.header("idempotency-key"))?;
    let request_hash = new_order.fingerprint();
    let idempotency = key.map(|key| Idempotency {
        key,
        request_hash: &request_hash,
    });
    if let Some(idem) = idempotency {
        if let Some(stored) = store::stored_response(&db, &member.member_id, idem.key)? {
            return replay(&stored, idem);
        }
    }
    let zone = order::shop_timezone(config::optional_variable("shop_timezone"));
    let placement = store::place(
        &db,
        &member.member_id,
        &new_order,
        &zone,
        order::DEFAULT_SHOP_TIMEZONE,
        idempotency,
    )?;
    match placement {
        Placement::Created {
            order_id,
            total,
            zone: used,
        } => {
            if used != zone {
                eprintln!(
                    "configuration error: shop_timezone {zone:?} is unknown to PostgreSQL; order {order_id} written in {used}"
                );
            }
            Ok(json_response(201, &order::placed_body(order_id, &total)?))
        }
        Placement::UnknownBranch => Err(ApiError::bad_request(format!(
            "`branchId`: no branch {:?}",
            new_order.branch_id
        ))),
        Placement::UnknownLine(i) => {
            let line = &new_order.lines[i];
            Err(ApiError::bad_request(format!(
                "`lines[{i}]`: no pizza {:?} in size {:?}",
                line.name, line.size
            )))
        }
        Placement::KeyTaken => match idempotency {
            Some(idem) => concurrent_winner(&db, &member.member_id, idem),
            None => Err(ApiError::internal(
                "placement without a key reported a taken key",
            )),
        },
    }
}

/// The stored answer for a key whose first request was `stored`: the same 201
/// for the same request, 422 for a different one.
fn replay(stored: &store::StoredResponse, idem: Idempotency<'_>) -> Result<Response, ApiError> {
    if stored.request_hash != idem.request_hash {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used with a different request",
        ));
    }
    Ok(json_response(
        201,
        &order::placed_body(stored.order_id, &stored.total)?,
    ))
}

/// Backoff (ms) between re-reads of a concurrent winner's answer: each read is
/// a new statement, hence a new snapshot that can see the winner's commit.
const WINNER_BACKOFF_MS: [u64; 5] = [2, 5, 10, 20, 40];

/// After losing the claim on the key to a concurrent request: that request's
/// answer, or 409 if it is still not committed after a short wait.
fn concurrent_winner(
    db: &Db,
    member_id: &str,
    idem: Idempotency<'_>,
) -> Result<Response, ApiError> {
    for pause in [0].into_iter().chain(WINNER_BACKOFF_MS) {
        std::thread::sleep(std::time::Duration::from_millis(pause));
        if let Some(stored) = store::stored_response(db, member_id, idem.key)? {
            return replay(&stored, idem);
        }
    }
    Err(ApiError::conflict(
        "request with this Idempotency-Key is in progress",
    ))
}
