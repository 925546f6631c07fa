//! An OTLP/HTTP receiver for tests: it takes what a host exports to
//! `/v1/traces`, `/v1/logs` and `/v1/metrics` (http/protobuf, Spin's default)
//! and decodes it with the maintained OpenTelemetry proto types, keeping the
//! raw bodies too, so tests can look for secrets in every byte sent.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One exported span, flattened.
#[derive(Debug, Clone)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, empty for a root span.
    pub parent_span_id: String,
    /// The span's name.
    pub name: String,
    /// OTLP `SpanKind` (2 server, 3 client).
    pub kind: i32,
    /// Attributes, values as text.
    pub attributes: HashMap<String, String>,
    /// `service.name` of the resource that sent it.
    pub service: String,
}

/// OTLP's `SPAN_KIND_SERVER`.
pub const SERVER: i32 = 2;
/// OTLP's `SPAN_KIND_CLIENT`.
pub const CLIENT: i32 = 3;

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    log_bodies: Vec<String>,
    metric_names: Vec<String>,
    raw: Vec<u8>,
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    server: Arc<tiny_http::Server>,
    received: Arc<Mutex<Received>>,
    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
}

impl Receiver {
    /// Listens on a free local port.
    pub fn start() -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind receiver"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let received = Arc::new(Mutex::new(Received::default()));
        let (s, r) = (server.clone(), received.clone());
        std::thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let status = r.lock().unwrap().take(request.url(), &body);
                let _ = request.respond(tiny_http::Response::empty(status));
            }
        });
        Receiver {
            server,
            received,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.received.lock().unwrap().spans.clone()
    }

    /// The bodies of every log record received so far.
    pub fn log_bodies(&self) -> Vec<String> {
        self.received.lock().unwrap().log_bodies.clone()
    }

    /// The names of every metric received so far.
    pub fn metric_names(&self) -> Vec<String> {
        self.received.lock().unwrap().metric_names.clone()
    }

    /// Every byte received so far, all signals.
    pub fn raw(&self) -> Vec<u8> {
        self.received.lock().unwrap().raw.clone()
    }

    /// Polls until `done` holds (true) or `timeout` passes (false).
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        done(self)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

impl Received {
    /// Decodes one export; the HTTP status to answer.
    fn take(&mut self, path: &str, body: &[u8]) -> u16 {
        self.raw.extend_from_slice(body);
        match path {
            "/v1/traces" => match ExportTraceServiceRequest::decode(body) {
                Ok(export) => {
                    for resource in export.resource_spans {
                        let service = resource
                            .resource
                            .as_ref()
                            .and_then(|r| attribute(&r.attributes, "service.name"))
                            .unwrap_or_default();
                        for scope in resource.scope_spans {
                            self.spans.extend(scope.spans.into_iter().map(|s| Span {
                                trace_id: hex(&s.trace_id),
                                span_id: hex(&s.span_id),
                                parent_span_id: hex(&s.parent_span_id),
                                name: s.name,
                                kind: s.kind,
                                attributes: attributes(&s.attributes),
                                service: service.clone(),
                            }));
                        }
                    }
                    200
                }
                Err(_) => 400,
            },
            "/v1/logs" => match ExportLogsServiceRequest::decode(body) {
                Ok(export) => {
                    let records = export
                        .resource_logs
                        .into_iter()
                        .flat_map(|r| r.scope_logs)
                        .flat_map(|s| s.log_records);
                    self.log_bodies
                        .extend(records.filter_map(|r| r.body.as_ref().map(text)));
                    200
                }
                Err(_) => 400,
            },
            "/v1/metrics" => match ExportMetricsServiceRequest::decode(body) {
                Ok(export) => {
                    let metrics = export
                        .resource_metrics
                        .into_iter()
                        .flat_map(|r| r.scope_metrics)
                        .flat_map(|s| s.metrics);
                    self.metric_names.extend(metrics.map(|m| m.name));
                    200
                }
                Err(_) => 400,
            },
            _ => 404,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref().map(text))
}

fn attributes(attributes: &[KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| Some((kv.key.clone(), text(kv.value.as_ref()?))))
        .collect()
}
