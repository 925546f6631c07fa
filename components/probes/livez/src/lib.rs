//! Liveness: `GET` → 200 `{"status": "ok"}` without touching any dependency,
//! so a database outage never makes Kubernetes restart healthy pods.

use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    let (status, body) = match request.method() {
        Method::Get | Method::Head => (200, r#"{"status":"ok"}"#),
        _ => (
            405,
            r#"{"detail":"method not allowed","error":"method not allowed"}"#,
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("allow", "GET, HEAD")
        .body(body)
        .build()
}
