//! Placing an order at shop time, and what the placement statement's verdict
//! ([`Placement`]) answers, for both ways an order is placed:
//! `POST /api/order/` and checkout.

use crate::auth::SignedToken;
use crate::config;
use crate::db::Db;
use crate::error::ApiError;
use crate::http::Req;
use crate::idempotency::{Claim, Write};
use crate::order::{NewOrder, OrderLine, PlacedOrder};
use crate::store::order::{self as store, Checkout, Placement};

/// Places `order` (as a `checkout`, or plain) in the configured shop time
/// zone within the member order limit: the statement's verdict, and the
/// zone configured (for [`answer`]).
pub fn place<'c>(
    db: &Db,
    token: &SignedToken,
    order: &NewOrder,
    claim: Option<&'c Claim>,
    checkout: Option<Checkout<'_>>,
) -> Result<(Placement<'c>, String), ApiError> {
    let zone = config::shop_timezone();
    let placement = store::place(
        db,
        token.verified(),
        order,
        &zone,
        config::DEFAULT_SHOP_TIMEZONE,
        config::member_order_limit()?,
        claim,
        checkout,
    )?;
    Ok((placement.granted()?, zone))
}

/// 400 for a branch that does not exist.
pub fn unknown_branch(branch_id: &str) -> ApiError {
    ApiError::bad_request(format!("`branchId`: no branch {branch_id:?}"))
}

/// 400 for line `i`, whose pizza is not on the menu.
pub fn unknown_line(i: usize, line: &OrderLine) -> ApiError {
    ApiError::bad_request(format!(
        "`lines[{i}]`: no pizza {:?} in size {:?}",
        line.name, line.size
    ))
}

/// `written`, after noting `order.placed` in the request's log line when it
/// placed a new order (a replay or a wait for another request places none).
pub fn noted<'c>(
    req: &Req,
    written: Result<Write<'c, PlacedOrder>, ApiError>,
) -> Result<Write<'c, PlacedOrder>, ApiError> {
    if let Ok(Write::Done(_)) = &written {
        req.note_event("order.placed");
    }
    written
}

/// The write or the refusal a placement of `order` makes; `zone` is the
/// configured shop time zone (a different one used is logged).
pub fn answer<'c>(
    placement: Placement<'c>,
    order: &NewOrder,
    zone: &str,
) -> Result<Write<'c, PlacedOrder>, ApiError> {
    match placement {
        Placement::Created { order, zone: used } => {
            if used != zone {
                eprintln!(
                    "configuration error: shop_timezone {zone:?} is unknown to PostgreSQL; order {} written in {used}",
                    order.order_id
                );
            }
            Ok(Write::Done(order))
        }
        Placement::Answered(answered) => Ok(Write::Answered(answered)),
        Placement::KeyTaken(taken) => Ok(Write::KeyTaken(taken)),
        Placement::CartChanged => Err(ApiError::conflict(
            "the cart changed while it was checked out; read it again",
        )),
        Placement::OverLimit { retry_after } => Err(ApiError::too_many_requests(
            "too many orders, try again later",
            retry_after,
        )),
        Placement::UnknownBranch => Err(unknown_branch(&order.branch_id)),
        Placement::BranchClosed => Err(ApiError::bad_request(format!(
            "`branchId`: branch {:?} is closed",
            order.branch_id
        ))),
        Placement::SoldOut(i) => {
            let line = &order.lines[i];
            Err(ApiError::bad_request(format!(
                "`lines[{i}]`: {:?} in size {:?} is sold out",
                line.name, line.size
            )))
        }
        Placement::UnknownLine(i) => Err(unknown_line(i, &order.lines[i])),
    }
}
