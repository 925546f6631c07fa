//! `GET /api/menu/types/` → 200, every pizza type: `pizza_type_id`,
//! `pizza_nm`, `pizza_categ`, `pizza_img_url` (a relative path or `""`) and
//! `ingredients`, by category and name. Cacheable like the menu.

use pizza::ApiError;
use pizza::http::{Req, serve};
use pizza::menu_document;
use pizza::store::menu::MenuDocument;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], types).await
}

fn types(req: &Req) -> Result<Response, ApiError> {
    menu_document::respond(req, MenuDocument::Types)
}
