//! `GET /api/order/branch/` → 200 `[{bran_id, bran_nm}]`, by id.

use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::{ApiError, store};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], branches).await
}

fn branches(_req: &Req) -> Result<Response, ApiError> {
    ok(&store::order::branches(&Db::connect()?)?)
}
