//! `GET /api/order/queue/?branch=..&state=..&cursor=..&limit=..` with a
//! Bearer token → 200 `{branch, marker, orders, next_cursor}`: the branch's
//! open orders, oldest first, for its staff and admins (403 for anyone else).
//!
//! - `state`: comma-separated open states (all of them by default).
//! - Paging by order id: pass `next_cursor` back as `cursor`.
//! - `?after=<marker>`: live status. `marker` grows with every order placed
//!   or moved at the branch; while it is still `after` the request waits and
//!   answers at the first change, or after 25 s with 304.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::order::queue::{QueuePage, QueueQuery};
use pizza::order::watch::{Watched, parse_after, wait_for_change};
use pizza::store::order::lifecycle as store;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], queue).await
}

fn queue(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let (query, after) = token.unless_revoked(&db, parse(req, &token))?;
    let mut page = read(&db, &query, &token)?;
    drop(db);
    if after == Some(page.marker) {
        // Each look takes a pooled connection for one statement only.
        let marker = || store::queue_marker(&Db::connect()?, &query.branch).map_err(ApiError::from);
        match wait_for_change(page.marker, marker, std::thread::sleep)? {
            Watched::Changed(_) => page = read(&Db::connect()?, &query, &token)?,
            Watched::Unchanged => {
                return Ok(Response::builder()
                    .status(304)
                    .header("cache-control", "no-store")
                    .build());
            }
        }
    }
    let mut answer = json_response(200, &page);
    answer.set_header("cache-control", "no-store");
    Ok(answer)
}

/// The query and its `after`, from staff of the branch (or an admin).
fn parse(req: &Req, token: &SignedToken) -> Result<(QueueQuery, Option<i64>), ApiError> {
    token.roles().require_staff()?;
    let param = |name| req.query_param(name);
    let query = QueueQuery::parse(
        param("branch").as_deref(),
        param("state").as_deref(),
        param("cursor").as_deref(),
        param("limit").as_deref(),
    )?;
    token.roles().require_branch(&query.branch)?;
    Ok((query, parse_after(param("after").as_deref())?))
}

/// One page of the queue, now.
fn read(db: &Db, query: &QueueQuery, token: &SignedToken) -> Result<QueuePage, ApiError> {
    let found = store::queue(
        db,
        &query.branch,
        &query.states,
        query.cursor,
        query.limit,
        token.verified(),
    )?
    .granted()?;
    Ok(query.page(found.marker, found.orders))
}
