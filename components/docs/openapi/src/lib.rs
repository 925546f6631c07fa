//! `GET /api/openapi.json` → 200: the OpenAPI 3.1 document of every endpoint
//! (`openapi.json` beside this crate, the contract the e2e suite and
//! schemathesis check the app against), cacheable with an `ETag`.

use pizza::ApiError;
use pizza::http::{Req, cacheable_json, serve};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// The document, compiled in.
const OPENAPI: &str = include_str!("../openapi.json");

/// How long clients may keep the document without asking again.
const MAX_AGE_SECS: u32 = 300;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], openapi).await
}

fn openapi(req: &Req) -> Result<Response, ApiError> {
    let document: serde_json::Value = serde_json::from_str(OPENAPI).map_err(ApiError::internal)?;
    Ok(cacheable_json(req, &document, MAX_AGE_SECS))
}
