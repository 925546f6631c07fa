//! `GET /api/order/myorder/` with a Bearer token → 200, one element per order
//! line of the member's orders (`order_id`, `bran_id`, `pizza_id`,
//! `quantity`, `date`, `time`, `unit_price`), newest order first, in one
//! query. 401 `{"detail": "unauthorized"}` without a valid, unrevoked token.

use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::{ApiError, store};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], history).await
}

fn history(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let lines = store::order::history(&db, token.verified())?;
    ok(&lines.granted()?)
}
