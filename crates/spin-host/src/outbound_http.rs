//! `wasi:http/outgoing-handler` policy: `allowed_outbound_hosts` enforcement,
//! in-process dispatch of `http://<component-id>.spin.internal/...` (service
//! chaining), relative URLs routed through the app's own listener, and plain
//! outbound requests for everything else that is allowed.
//!
//! Each request runs in Spin 3.6.3's client span
//! (`spin_outbound_http.send_request`, named by the method) and carries that
//! span's W3C trace context, so a chained component's spans join the trace.
//!
//! Its per-instance state, [`OutboundHttpInstanceState`], holds the
//! component's allow-list and a [`LocalApp`]: the application seen through a
//! trait, because the app (built from instances whose state includes this
//! module's) sits above it, as Spin's trigger implements the outbound HTTP
//! factor's request interceptor.

use crate::allowed_hosts::{AllowedHosts, log_denied, service_chaining_target};
use crate::http_util::prepare_request;
use crate::routing::RouteMatch;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tracing::Instrument;
use tracing::field::Empty;
use wasmtime_wasi_http::HttpResult;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{
    HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig,
    default_send_request_handler,
};

/// The response of a component run in process, as [`LocalApp::dispatch`]
/// hands it back (boxed, so that [`LocalApp`] can be a trait object).
pub type ResponseFuture = Pin<Box<dyn Future<Output = hyper::Response<HyperOutgoingBody>> + Send>>;

/// The running application as outbound HTTP needs it: the address of its
/// listener (relative URLs) and its components (`*.spin.internal` chaining).
/// Implemented by `app::App`.
pub trait LocalApp: Send + Sync {
    /// The address the app's listener is bound to, once it is bound.
    fn listen_addr(&self) -> Option<SocketAddr>;

    /// Prepares running `request` on a fresh instance of component `id`, in
    /// process; `None` when the app has no such component (none by that id,
    /// or one a selection left out). The future resolves to the component's
    /// response, or to an empty `500` when the guest failed before responding.
    fn dispatch(
        self: Arc<Self>,
        id: &str,
        request: hyper::Request<HyperOutgoingBody>,
    ) -> Option<ResponseFuture>;
}

/// What outbound HTTP needs in one instance: the component's allow-list and
/// the application it belongs to.
pub struct OutboundHttpInstanceState {
    /// The component's `allowed_outbound_hosts`.
    allowed_hosts: Arc<AllowedHosts>,
    /// The application, for relative URLs and `*.spin.internal` chaining.
    app: Arc<dyn LocalApp>,
}

impl OutboundHttpInstanceState {
    /// State for an instance of a component of `app` whose outbound requests
    /// must be allowed by `allowed_hosts`.
    pub fn new(allowed_hosts: Arc<AllowedHosts>, app: Arc<dyn LocalApp>) -> Self {
        OutboundHttpInstanceState { allowed_hosts, app }
    }

    /// `WasiHttpView::send_request` for this instance: enforces the
    /// allow-list, and sends the request through the app's listener (relative
    /// URLs), to another component in process (`*.spin.internal`), or out.
    pub fn send_request(
        &self,
        mut request: hyper::Request<HyperOutgoingBody>,
        mut config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let span = tracing::info_span!(
            "spin_outbound_http.send_request",
            "otel.kind" = "client",
            "url.full" = Empty,
            "http.request.method" = %request.method(),
            "otel.name" = %request.method(),
            "http.response.status_code" = Empty,
            "server.address" = Empty,
            "server.port" = Empty,
        );
        span.in_scope(|| crate::telemetry::propagation::inject_current(request.headers_mut()));
        let allowed = &self.allowed_hosts;
        // A relative URL arrives without authority or with an empty host.
        let authority = request
            .uri()
            .authority()
            .filter(|a| !a.host().is_empty())
            .cloned();
        let Some(authority) = authority else {
            // Relative URL: a request to this application, through its listener.
            let Some(addr) = self.app.listen_addr().filter(|_| allowed.allows_self()) else {
                log_denied("http://self");
                return Err(ErrorCode::HttpRequestDenied.into());
            };
            let ip = if addr.ip().is_unspecified() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                addr.ip()
            };
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let uri = format!("http://{}{pq}", SocketAddr::new(ip, addr.port()));
            *request.uri_mut() = uri.parse().map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
            config.use_tls = false;
            return Ok(send_out(request, config, span));
        };
        let scheme = request.uri().scheme_str().unwrap_or("http").to_string();
        let host = authority.host().to_string();
        let port = authority.port_u16();
        let destination = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        if !span.is_disabled() {
            span.record("url.full", request.uri().to_string());
            span.record("server.address", host.as_str());
            if let Some(p) = port {
                span.record("server.port", p);
            }
        }
        if !allowed.allows(&scheme, &host, port) {
            log_denied(&destination);
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        if let Some(id) = service_chaining_target(request.uri()) {
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let full_url = format!("http://localhost{pq}");
            let m = RouteMatch {
                component: id.clone(),
                matched_route: "/...".into(),
                component_route: String::new(),
                raw_route: "/...".into(),
                path_info: request.uri().path().to_string(),
                params: Vec::new(),
            };
            // Keep the component-visible URI (`http://<id>.spin.internal/...`).
            let uri = request.uri().clone();
            let mut request = prepare_request(request, &m, &full_url, "0.0.0.0:0");
            *request.uri_mut() = uri;
            let Some(response) = self.app.clone().dispatch(&id, request) else {
                // As in Spin, whose interceptor cannot route it: an error that
                // is no `ErrorCode` traps the guest when it reads the response.
                let trap = wasmtime::Error::msg(format!("unknown routing destination '{id}'"));
                return Ok(HostFutureIncomingResponse::ready(Err(trap)));
            };
            let between_bytes_timeout = config.between_bytes_timeout;
            let handle = wasmtime_wasi::runtime::spawn(
                async move {
                    let resp = response.await;
                    record_status(resp.status());
                    Ok(Ok(IncomingResponse {
                        resp,
                        worker: None,
                        between_bytes_timeout,
                    }))
                }
                .instrument(span),
            );
            return Ok(HostFutureIncomingResponse::pending(handle));
        }
        Ok(send_out(request, config, span))
    }
}

/// Sends `request` over the network, as wasmtime's `default_send_request`,
/// inside its client `span`.
fn send_out(
    request: hyper::Request<HyperOutgoingBody>,
    config: OutgoingRequestConfig,
    span: tracing::Span,
) -> HostFutureIncomingResponse {
    let handle = wasmtime_wasi::runtime::spawn(
        async move {
            let sent = default_send_request_handler(request, config).await;
            if let Ok(r) = &sent {
                record_status(r.resp.status());
            }
            Ok(sent)
        }
        .instrument(span),
    );
    HostFutureIncomingResponse::pending(handle)
}

/// Puts the response status on the current (client) span.
fn record_status(status: http::StatusCode) {
    tracing::Span::current().record("http.response.status_code", status.as_u16());
}
