//! `wasi:http/outgoing-handler` policy: `allowed_outbound_hosts` enforcement,
//! in-process dispatch of `http://<component-id>.spin.internal/...` (service
//! chaining), relative URLs routed through the app's own listener, and plain
//! outbound requests for everything else that is allowed.

use crate::allowed_hosts::log_denied;
use crate::instance;
use crate::routing::RouteMatch;
use crate::state::HostState;
use crate::trigger::{empty, prepare_request};
use http::StatusCode;
use wasmtime::component::ResourceTable;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{
    HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig, default_send_request,
};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

const INTERNAL_SUFFIX: &str = ".spin.internal";

impl WasiHttpView for HostState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        mut request: hyper::Request<HyperOutgoingBody>,
        mut config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let allowed = &self.component.allowed_hosts;
        // A relative URL arrives without authority or with an empty host.
        let authority = request
            .uri()
            .authority()
            .filter(|a| !a.host().is_empty())
            .cloned();
        let Some(authority) = authority else {
            // Relative URL: a request to this application, through its listener.
            let Some(addr) = self
                .app
                .listen_addr
                .get()
                .copied()
                .filter(|_| allowed.allows_self())
            else {
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
            let uri = format!("http://{}{pq}", std::net::SocketAddr::new(ip, addr.port()));
            *request.uri_mut() = uri.parse().map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
            config.use_tls = false;
            return Ok(default_send_request(request, config));
        };
        let scheme = request.uri().scheme_str().unwrap_or("http").to_string();
        let host = authority.host().to_string();
        let port = authority.port_u16();
        let destination = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        if !allowed.allows(&scheme, &host, port) {
            log_denied(&destination);
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        if let Some(id) = host.strip_suffix(INTERNAL_SUFFIX) {
            let Some(target) = self.app.components.get(id).cloned() else {
                return Err(ErrorCode::HttpRequestDenied.into());
            };
            let app = self.app.clone();
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let full_url = format!("http://localhost{pq}");
            let m = RouteMatch {
                component: id.to_string(),
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
            let between_bytes_timeout = config.between_bytes_timeout;
            let handle = wasmtime_wasi::runtime::spawn(async move {
                let resp = match instance::invoke(&app, &target, request).await {
                    Ok(inv) => {
                        tokio::spawn(async move {
                            if let Ok(Err(e)) = inv.task.await {
                                eprintln!(
                                    "ERROR spin_trigger_http::server: Error processing request: {e:?}"
                                );
                            }
                        });
                        inv.response
                    }
                    Err(e) => {
                        eprintln!(
                            "ERROR spin_trigger_http::server: Error processing request: {e:?}"
                        );
                        empty(StatusCode::INTERNAL_SERVER_ERROR)
                    }
                };
                Ok(Ok(IncomingResponse {
                    resp,
                    worker: None,
                    between_bytes_timeout,
                }))
            });
            return Ok(HostFutureIncomingResponse::pending(handle));
        }
        Ok(default_send_request(request, config))
    }
}
