//! `GET /api/menu/` → 200, every pizza: `pizza_id`, `pizza_type__pizza_nm`,
//! `size`, `price` (exact), plus `pizza_type_id` and `pizza_categ`.
//!
//! Listed by category, name, then size S to XXL. The answer is the document
//! PostgreSQL keeps up to date (migration 0013), cacheable with an `ETag`; a
//! matching `If-None-Match` gets 304.

use pizza::ApiError;
use pizza::http::{Req, serve};
use pizza::menu_document;
use pizza::store::menu::MenuDocument;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], list).await
}

fn list(req: &Req) -> Result<Response, ApiError> {
    menu_document::respond(req, MenuDocument::Menu)
}
