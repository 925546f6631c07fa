//! `GET /api/admin/sales/?from=YYYY-MM-DD&to=YYYY-MM-DD&branch=<id>` with an
//! admin's Bearer token → 200 `{from, to, branch, orders, revenue,
//! average_order_value, pizzas_sold, by_day, by_hour, pizzas, sizes,
//! categories, branches}`: the web console's sales dashboard, from one
//! statement over the orders and their lines (`pizza::store::admin::sales`).
//!
//! Every parameter is optional (no bound, all branches). 400 for a day that
//! is no date or a range backwards; 401 without a valid, unrevoked token;
//! 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::sales::SalesQuery;
use pizza::store::admin::sales as store;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], sales).await
}

fn sales(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let query = token.unless_revoked(&db, parse(req, &token))?;
    ok(&store::sales(&db, token.verified(), &query)?.granted()?)
}

/// The days and branch asked for, by an admin.
fn parse(req: &Req, token: &SignedToken) -> Result<SalesQuery, ApiError> {
    token.roles().require_admin()?;
    let (from, to) = (req.query_param("from"), req.query_param("to"));
    let branch = req.query_param("branch");
    SalesQuery::parse(from.as_deref(), to.as_deref(), branch.as_deref())
}
