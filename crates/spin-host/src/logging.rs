//! Host-side logging: guest stdout/stderr forwarded to the host's stderr with a
//! `[component-id] ` prefix per line (and, when logs are exported, each line
//! as an OpenTelemetry log record), and one JSON access-log line per request.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A guest output stream (stdout or stderr) that prefixes every line with the
/// component id. Partial lines are buffered until a newline or until the
/// instance is dropped.
#[derive(Clone)]
pub struct PrefixedOutput(Arc<LineBuffer>);

struct LineBuffer {
    prefix: String,
    pending: Mutex<Vec<u8>>,
}

impl PrefixedOutput {
    /// Creates the stream for one instance of component `id`.
    pub fn new(id: &str) -> PrefixedOutput {
        PrefixedOutput(Arc::new(LineBuffer {
            prefix: format!("[{id}] "),
            pending: Mutex::new(Vec::new()),
        }))
    }
}

impl LineBuffer {
    fn write(&self, data: &[u8]) {
        let mut pending = self.pending.lock().unwrap();
        pending.extend_from_slice(data);
        let Some(last_nl) = pending.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = pending.drain(..=last_nl).collect();
        drop(pending);
        let mut out = Vec::with_capacity(complete.len() + 16);
        for line in complete.split_inclusive(|b| *b == b'\n') {
            out.extend_from_slice(self.prefix.as_bytes());
            out.extend_from_slice(line);
            crate::telemetry::logs::app_log(line.strip_suffix(b"\n").unwrap_or(line));
        }
        let _ = std::io::stderr().lock().write_all(&out);
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        let pending = std::mem::take(self.pending.get_mut().unwrap());
        if !pending.is_empty() {
            crate::telemetry::logs::app_log(&pending);
            let mut out = self.prefix.as_bytes().to_vec();
            out.extend_from_slice(&pending);
            out.push(b'\n');
            let _ = std::io::stderr().lock().write_all(&out);
        }
    }
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for PrefixedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One request's access-log record.
pub struct AccessLog<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Raw request path.
    pub path: &'a str,
    /// Matched route, if any.
    pub route: Option<&'a str>,
    /// Component id, if any.
    pub component: Option<&'a str>,
    /// Response status.
    pub status: u16,
    /// Time to produce the response head.
    pub duration: std::time::Duration,
    /// The trace the request's span belongs to, when traces are exported.
    pub trace_id: Option<String>,
}

impl AccessLog<'_> {
    /// Writes the record as one JSON line on stderr.
    pub fn emit(&self) {
        let mut line = serde_json::json!({
            "type": "access",
            "method": self.method,
            "path": self.path,
            "route": self.route,
            "component": self.component,
            "status": self.status,
            "duration_ms": (self.duration.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        });
        if let Some(id) = &self.trace_id {
            line["trace_id"] = id.as_str().into();
        }
        eprintln!("{line}");
    }
}
