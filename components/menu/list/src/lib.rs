//! `GET /api/menu/` → 200, every pizza: `pizza_id`, `pizza_type__pizza_nm`,
//! `size`, `price` (exact), plus `pizza_type_id` and `pizza_categ`.
//!
//! Listed by category, name, then size S to XXL. The answer is cacheable with
//! an `ETag`; a matching `If-None-Match` gets 304.

use pizza::db::Db;
use pizza::http::{Req, cacheable_json, serve};
use pizza::{ApiError, menu, store};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], list).await
}

fn list(req: &Req) -> Result<Response, ApiError> {
    let mut pizzas = store::menu::list_pizzas(&Db::connect()?)?;
    menu::sort_menu(&mut pizzas);
    Ok(cacheable_json(req, &pizzas, menu::CACHE_MAX_AGE_SECS))
}
