//! Forwards `/test/chain/<component>/<path>` to `http://<component>.spin.internal/<path>`
//! with the same method, `content-type` and body, and relays the answer.
//! It exists only in the test manifest the e2e harness generates.

use spin_sdk::http::{IncomingResponse, Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request) -> anyhow::Result<Response> {
    let rest = req.path().strip_prefix("/test/chain/").unwrap_or_default();
    let (component, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut outbound = Request::builder();
    outbound
        .method(req.method().clone())
        .uri(format!("http://{component}.spin.internal/{path}"));
    if let Some(ct) = req.header("content-type").and_then(|v| v.as_str()) {
        outbound.header("content-type", ct);
    }
    if *req.method() != Method::Get {
        outbound.body(req.body().to_vec());
    }
    let answer: IncomingResponse = spin_sdk::http::send(outbound.build()).await?;
    let status = answer.status();
    let content_type = answer
        .headers()
        .get("content-type")
        .into_iter()
        .next()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    let body = answer.into_body().await?;
    Ok(Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body)
        .build())
}
