//! Where the exporting runtime (`--otel`) sends its OpenTelemetry: an
//! OTLP/HTTP endpoint that takes the POSTs to `/v1/traces`, `/v1/metrics` and
//! `/v1/logs`, reads each body to its end, discards it and answers 200 (an
//! empty protobuf answer, as a collector's), counting requests and bytes per
//! signal. It runs on a thread and a tokio runtime of its own, so the bench's
//! blocking calls (stopping a host, pgbench) never hold an export up.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The OTLP signals, as in their paths `/v1/<signal>`.
const SIGNALS: [&str; 3] = ["traces", "metrics", "logs"];

/// What arrived for one signal.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Received {
    /// POSTs answered 200.
    pub requests: u64,
    /// Their bodies' bytes, as sent (protobuf, uncompressed unless the exporter compresses).
    pub bytes: u64,
}

/// Everything the sink received.
#[derive(Debug, Clone, Serialize)]
pub struct SinkReport {
    /// The endpoint the exporting runtime was given.
    pub endpoint: String,
    /// `POST /v1/traces`.
    pub traces: Received,
    /// `POST /v1/metrics`.
    pub metrics: Received,
    /// `POST /v1/logs`.
    pub logs: Received,
    /// Anything else (answered 404): not an OTLP/HTTP export.
    pub other_requests: u64,
}

impl SinkReport {
    /// Exports of every signal.
    pub fn requests(&self) -> u64 {
        self.signals().map(|(_, r)| r.requests).sum()
    }

    /// Bytes of every signal.
    pub fn bytes(&self) -> u64 {
        self.signals().map(|(_, r)| r.bytes).sum()
    }

    /// Each signal's name and what arrived for it.
    pub fn signals(&self) -> impl Iterator<Item = (&'static str, Received)> {
        SIGNALS
            .into_iter()
            .zip([self.traces, self.metrics, self.logs])
    }
}

/// The counters the connections add to.
#[derive(Default)]
struct Counters {
    requests: [AtomicU64; 3],
    bytes: [AtomicU64; 3],
    other: AtomicU64,
}

/// A running sink on `127.0.0.1`; stops when dropped.
pub struct Sink {
    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sink {
    /// Listens on a free local port.
    pub fn start() -> anyhow::Result<Sink> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let c = counters.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-sink".to_owned())
            .spawn(move || rt.block_on(serve(listener, c, stopped)))?;
        Ok(Sink {
            endpoint,
            counters,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// What has arrived so far.
    pub fn report(&self) -> SinkReport {
        let c = &self.counters;
        let signal = |i: usize| Received {
            requests: c.requests[i].load(Ordering::Relaxed),
            bytes: c.bytes[i].load(Ordering::Relaxed),
        };
        SinkReport {
            endpoint: self.endpoint.clone(),
            traces: signal(0),
            metrics: signal(1),
            logs: signal(2),
            other_requests: c.other.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stopped`; each is served on a task of its own.
async fn serve(
    listener: std::net::TcpListener,
    counters: Arc<Counters>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let counters = counters.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, counters.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Reads `req`'s body to its end, counting it; 200 for an export, else 404.
async fn answer(
    req: Request<Incoming>,
    counters: Arc<Counters>,
) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    let signal = req
        .uri()
        .path()
        .strip_prefix("/v1/")
        .and_then(|s| SIGNALS.iter().position(|x| *x == s))
        .filter(|_| req.method() == Method::POST);
    let mut body = req.into_body();
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            bytes += data.len() as u64;
        }
    }
    let status = match signal {
        Some(i) => {
            counters.requests[i].fetch_add(1, Ordering::Relaxed);
            counters.bytes[i].fetch_add(bytes, Ordering::Relaxed);
            StatusCode::OK
        }
        None => {
            counters.other.fetch_add(1, Ordering::Relaxed);
            StatusCode::NOT_FOUND
        }
    };
    let mut response = Response::new(Empty::new());
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-protobuf"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{self, Req};

    async fn post(client: &client::Client, sink: &Sink, method: Method, path: &str, body: usize) {
        let req = Req {
            label: "export",
            method,
            uri: format!("{}{path}", sink.endpoint).parse().unwrap(),
            headers: http::HeaderMap::new(),
            body: Bytes::from(vec![7u8; body]),
            expect: &[200, 404],
        };
        client::send_expect(client, &req).await.unwrap();
    }

    #[tokio::test]
    async fn counts_each_signal_and_refuses_anything_else() {
        let sink = Sink::start().unwrap();
        let client = client::client();
        post(&client, &sink, Method::POST, "/v1/traces", 100_000).await;
        post(&client, &sink, Method::POST, "/v1/traces", 5).await;
        post(&client, &sink, Method::POST, "/v1/metrics", 7).await;
        post(&client, &sink, Method::GET, "/v1/logs", 0).await;
        post(&client, &sink, Method::POST, "/v1/spans", 3).await;
        let r = sink.report();
        assert_eq!((r.traces.requests, r.traces.bytes), (2, 100_005));
        assert_eq!((r.metrics.requests, r.metrics.bytes), (1, 7));
        assert_eq!((r.logs.requests, r.logs.bytes), (0, 0));
        assert_eq!(r.other_requests, 2);
        assert_eq!((r.requests(), r.bytes()), (3, 100_012));
    }
}
