//! `POST /api/menu/get_pizza_id/` `{pizza_nm, size}` → 200 `{"pizza_id"}`.
//!
//! 404 `{"detail": "not found"}` when no pizza of that type name (exact,
//! case-sensitive) comes in that size; 400 for a body that is not an object
//! with both fields as strings.

use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::{ApiError, store};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], pizza_id).await
}

fn pizza_id(req: &Req) -> Result<Response, ApiError> {
    let fields = req.fields()?;
    let name = fields.required_str("pizza_nm")?;
    let size = fields.required_str("size")?;
    match store::menu::pizza_id(&Db::connect()?, name, size)? {
        Some(id) => ok(&serde_json::json!({ "pizza_id": id })),
        None => Err(ApiError::not_found("not found")),
    }
}
