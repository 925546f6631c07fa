//! HTTP pieces shared by the trigger, the app and outbound HTTP: the request a
//! component sees (the `spin-*` headers) and empty responses. They live apart
//! from the trigger because outbound HTTP (`*.spin.internal` chaining) sits
//! below the app and the trigger in the module layering and needs them too.

use crate::routing::RouteMatch;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use wasmtime_wasi_http::body::HyperOutgoingBody;

/// Builds an empty-bodied response (404s, and the 500 a failed guest becomes).
pub fn empty(status: StatusCode) -> Response<HyperOutgoingBody> {
    let mut r = Response::new(Empty::new().map_err(|e| match e {}).boxed_unsync());
    *r.status_mut() = status;
    r
}

/// Adds the `spin-*` headers and makes the URI absolute, as the component sees it.
pub fn prepare_request<B>(
    mut req: Request<B>,
    m: &RouteMatch,
    full_url: &str,
    client_addr: &str,
) -> Request<B> {
    let headers = req.headers_mut();
    headers.remove(header::HOST);
    let mut set = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    };
    set("spin-full-url", full_url);
    set("spin-path-info", &m.path_info);
    set("spin-matched-route", &m.matched_route);
    set("spin-component-route", &m.component_route);
    set("spin-raw-component-route", &m.raw_route);
    set("spin-base-path", "/");
    set("spin-client-addr", client_addr);
    for (name, value) in &m.params {
        set(&format!("spin-path-match-{name}"), value);
    }
    if let Ok(uri) = full_url.parse() {
        *req.uri_mut() = uri;
    }
    req
}
