//! The HTTP trigger: an HTTP/1.1 and h2c listener that routes requests to components
//! with Spin's `spin-*` headers, answers the `/.well-known/spin/*` endpoints,
//! writes the access log and shuts down gracefully.
//!
//! Each request runs in Spin 3.6.3's server span
//! (`spin_trigger_http.handle_http_request`, named `<METHOD> <route>`, with
//! the same attributes as its `http_span!`), continuing the client's
//! `traceparent`.

use crate::app::App;
use crate::http_util::{empty, prepare_request};
use crate::instance::Invocation;
use crate::logging::AccessLog;
use crate::routing::RouteMatch;
use crate::telemetry;
use anyhow::Result;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tracing::Instrument;
use tracing::field::Empty as Unrecorded;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<HyperOutgoingBody> {
    let mut r = Response::new(
        Full::new(body.into())
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *r.status_mut() = status;
    r
}

/// Prints the `Serving`/`Available Routes` banner like `spin up`.
pub fn print_routes(app: &App, base: &str) {
    println!("Serving {base}");
    println!("Available Routes:");
    for r in app.router.routes() {
        let shown = r.display();
        match shown.strip_suffix("/...") {
            Some(prefix) => println!("  {}: {base}{prefix} (wildcard)", r.component),
            None => println!("  {}: {base}{shown}", r.component),
        }
    }
}

/// Serves until `shutdown` resolves, then stops accepting and waits for
/// in-flight connections to finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let local = listener.local_addr()?;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("spin-host: accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(app, req, peer, local).await) }
        });
        // As Spin's `HttpServer::serve_connection` (`crates/trigger-http/src/
        // server.rs`): one auto-detecting (HTTP/1.1 or h2c) builder per
        // connection with hyper's defaults, so keep-alive is on and idle
        // connections have no timeout.
        let conn = auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await
                && !e
                    .downcast_ref::<hyper::Error>()
                    .is_some_and(hyper::Error::is_incomplete_message)
            {
                eprintln!("spin-host: connection error: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let span = tracing::info_span!(
        "spin_trigger_http.handle_http_request",
        "otel.kind" = "server",
        "http.request.method" = %req.method(),
        "network.peer.address" = %peer.ip(),
        "network.peer.port" = %peer.port(),
        "network.protocol.name" = "http",
        "url.path" = req.uri().path(),
        "url.query" = req.uri().query().unwrap_or(""),
        "url.scheme" = req.uri().scheme_str().unwrap_or(""),
        "client.address" = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok()),
        "error.type" = Unrecorded,
        "http.response.status_code" = Unrecorded,
        "http.route" = Unrecorded,
    );
    telemetry::propagation::continue_trace(&span, req.headers());
    respond(app, req, peer, local, &span)
        .instrument(span.clone())
        .await
}

/// Answers one request inside its server `span`, then finishes the span
/// (route, name, status), writes the access-log line and records the
/// request's metrics.
async fn respond(
    app: Arc<App>,
    req: Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
    span: &tracing::Span,
) -> Response<HyperOutgoingBody> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    // `/.well-known/spin/*` is reserved even when a catch-all route exists.
    let well_known = path.starts_with("/.well-known/spin/");
    let routed = if well_known {
        None
    } else {
        app.router.route(&path)
    };
    let response = match (path.as_str(), &routed) {
        ("/.well-known/spin/health", _) => full(StatusCode::OK, "OK"),
        ("/.well-known/spin/info", _) => info(&app),
        (_, Some(m)) => run(&app, m, req, peer, local).await,
        (_, None) => empty(StatusCode::NOT_FOUND),
    };
    let response = if method == Method::HEAD {
        let (parts, _) = response.into_parts();
        Response::from_parts(parts, Empty::new().map_err(|e| match e {}).boxed_unsync())
    } else {
        response
    };
    let status = response.status().as_u16();
    let duration = start.elapsed();
    // As Spin's `finalize_http_span`: the manifest's route (the path for the
    // well-known endpoints), none for a 404 without a route.
    let route = match &routed {
        Some(m) => Some(m.raw_route.as_str()),
        None if well_known && status != 404 => Some(path.as_str()),
        None => None,
    };
    if !span.is_disabled() {
        match route {
            Some(route) => {
                span.record("http.route", route);
                telemetry::propagation::rename(span, format!("{method} {route}"));
            }
            None => telemetry::propagation::rename(span, method.to_string()),
        }
        span.record("http.response.status_code", status);
    }
    telemetry::metrics::request_served(method.as_str(), route, status, duration);
    AccessLog {
        method: method.as_str(),
        path: &path,
        route: routed.as_ref().map(|m| m.matched_route.as_str()),
        component: routed.as_ref().map(|m| m.component.as_str()),
        status,
        duration,
        trace_id: telemetry::propagation::trace_id(span),
    }
    .emit();
    response
}

fn info(app: &App) -> Response<HyperOutgoingBody> {
    let mut doc = serde_json::Map::new();
    doc.insert("name".into(), app.name.clone().into());
    if let Some(v) = &app.version {
        doc.insert("version".into(), v.clone().into());
    }
    let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let mut r = full(StatusCode::OK, body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn run(
    app: &Arc<App>,
    m: &RouteMatch,
    req: Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let authority = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| local.to_string());
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let full_url = format!("http://{authority}{pq}");
    let req = prepare_request(req, m, &full_url, &peer.to_string());
    let req = req.map(|b| b.map_err(|e| ErrorCode::InternalError(Some(e.to_string()))));
    let Some(component) = app.components.get(&m.component) else {
        return empty(StatusCode::NOT_FOUND);
    };
    match app.invoke(component, req).await {
        Ok(inv) if app.config.strict_tx => strict_response(&m.component, inv).await,
        Ok(Invocation { response, task }) => {
            tokio::spawn(async move {
                if let Ok(Err(e)) = task.await {
                    eprintln!("ERROR spin_trigger_http::server: Error processing request: {e:?}");
                }
            });
            response
        }
        Err(e) => {
            eprintln!("ERROR spin_trigger_http::server: Error processing request: {e:?}");
            tracing::Span::current().record("error.type", format!("{e:?}"));
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Strict transaction mode: the response is buffered until the guest has
/// finished and its PostgreSQL connections were checked; a leaked transaction
/// turns the response into a 500.
async fn strict_response(component: &str, inv: Invocation) -> Response<HyperOutgoingBody> {
    let (parts, body) = inv.response.into_parts();
    let body = body.collect().await;
    let leaked = match inv.task.await {
        Ok(Ok(leaked)) => leaked,
        Ok(Err(e)) => {
            eprintln!("ERROR spin_trigger_http::server: Error processing request: {e:?}");
            false
        }
        Err(e) => {
            eprintln!("ERROR spin_trigger_http::server: guest task failed: {e}");
            false
        }
    };
    if leaked {
        eprintln!(
            "ERROR spin-host strict-tx: request to component {component:?} left a PostgreSQL transaction open; it was rolled back and the response replaced by 500"
        );
        return empty(StatusCode::INTERNAL_SERVER_ERROR);
    }
    match body {
        Ok(collected) => Response::from_parts(
            parts,
            Full::new(collected.to_bytes())
                .map_err(|e| match e {})
                .boxed_unsync(),
        ),
        Err(e) => {
            eprintln!("ERROR spin_trigger_http::server: response body failed: {e:?}");
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
