//! One JSON line per request on stdout, which Spin forwards (and exports as
//! an OpenTelemetry log record when the host exports logs): what an operator
//! needs to find a request, and what the shop's events are, countable with
//! `jq` or a log pipeline.
//!
//! ```json
//! {"type":"request","request_id":"4f0c…","trace_id":"0af7…","method":"POST",
//!  "route":"/api/order/","member":"alice","status":201,"outcome":"ok",
//!  "duration_ms":4.2,"events":["order.placed"]}
//! ```
//!
//! - `trace_id` comes from the request's W3C `traceparent` (the client's or a
//!   gateway's); Spin 3.6 gives guests no other view of the trace, so without
//!   one it is `null` and the host's span has a trace of its own.
//! - `request_id` is the caller's `x-request-id` when it is short and
//!   printable, else a fresh random one; error answers carry it in their body.
//! - `member` is the member id a verified token named (never the token), and
//!   `duration_ms` the component's own work, from its first line to its answer.
//! - An error adds its `detail`, and a 5xx the cause kept from the client.

use crate::error::ApiError;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::time::Instant;

/// What a handler learnt while serving: who asked and what happened.
#[derive(Debug, Default, Clone)]
pub struct Notes {
    /// The member a verified token named.
    pub member: Option<String>,
    /// Business events, such as `order.placed` or `login.throttled`.
    pub events: Vec<String>,
}

/// A request's log line in the making.
#[derive(Debug)]
pub struct RequestLog {
    request_id: String,
    trace_id: Option<String>,
    method: String,
    route: Option<String>,
    started: Instant,
    notes: RefCell<Notes>,
}

impl RequestLog {
    /// Starts the line of a request with `method`, reading its headers
    /// through `header` (by lower-case name).
    pub fn begin(method: &str, header: impl Fn(&str) -> Option<String>) -> RequestLog {
        let request_id = header("x-request-id")
            .filter(|id| (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or_else(random_id);
        RequestLog {
            request_id,
            trace_id: header("traceparent").as_deref().and_then(trace_id),
            method: method.to_owned(),
            // Spin's headers: the route as the manifest writes it.
            route: header("spin-raw-component-route").or_else(|| header("spin-matched-route")),
            started: Instant::now(),
            notes: RefCell::new(Notes::default()),
        }
    }

    /// The id error answers carry.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Records the member a verified token named.
    pub fn note_member(&self, member: &str) {
        self.notes.borrow_mut().member = Some(member.to_owned());
    }

    /// Records a business event.
    pub fn note_event(&self, event: impl Into<String>) {
        self.notes.borrow_mut().events.push(event.into());
    }

    /// The line for an answer with `status`, and the error behind it if any.
    pub fn line(&self, status: u16, error: Option<&ApiError>) -> Value {
        let notes = self.notes.borrow();
        let outcome = match status {
            500.. => "server_error",
            400..=499 => "client_error",
            _ => "ok",
        };
        let micros = self.started.elapsed().as_micros() as f64;
        let mut line = json!({
            "type": "request",
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "method": self.method,
            "route": self.route,
            "member": notes.member,
            "status": status,
            "outcome": outcome,
            "duration_ms": (micros / 1000.0 * 1000.0).round() / 1000.0,
            "events": notes.events,
        });
        if let Some(e) = error {
            line["detail"] = e.detail.clone().into();
            if e.status >= 500 {
                line["cause"] = e.cause().unwrap_or("no cause recorded").into();
            }
        }
        line
    }

    /// Writes the line on stdout.
    pub fn write(&self, status: u16, error: Option<&ApiError>) {
        println!("{}", self.line(status, error));
    }
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), or
/// `None` when the header is malformed or its ids are all zeros.
pub fn trace_id(traceparent: &str) -> Option<String> {
    let parts: Vec<&str> = traceparent.trim().split('-').collect();
    let [version, trace, parent, flags, ..] = parts[..] else {
        return None;
    };
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.len() == 4)
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_owned())
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    crate::hex::encode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn log(headers: &[(&str, &str)]) -> RequestLog {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RequestLog::begin("POST", |name| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_trace_id_comes_from_a_valid_traceparent_only() {
        assert_eq!(
            trace_id(PARENT).as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_line_names_the_request_the_member_and_the_events() {
        let log = log(&[
            ("traceparent", PARENT),
            ("spin-raw-component-route", "/api/order/"),
            ("authorization", "Bearer eyJ.secret"),
        ]);
        log.note_member("alice");
        log.note_event("order.placed");
        let line = log.line(201, None);
        assert_eq!(line["type"], "request");
        assert_eq!(line["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(line["route"], "/api/order/");
        assert_eq!(line["member"], "alice");
        assert_eq!(line["outcome"], "ok");
        assert_eq!(line["events"], json!(["order.placed"]));
        assert_eq!(line["request_id"].as_str().unwrap().len(), 16);
        assert!(!line.to_string().contains("eyJ"), "{line}");
    }

    #[test]
    fn errors_add_their_detail_and_5xx_their_cause() {
        let log = log(&[("x-request-id", "req-42")]);
        let e = ApiError::bad_request("no lines");
        let line = log.line(400, Some(&e));
        assert_eq!(line["outcome"], "client_error");
        assert_eq!(line["detail"], "no lines");
        assert_eq!(line["request_id"], "req-42");
        assert_eq!(line["trace_id"], Value::Null);
        assert!(line.get("cause").is_none());
        let e = ApiError::unavailable("database unavailable").with_cause("connection refused");
        let line = log.line(503, Some(&e));
        assert_eq!(line["outcome"], "server_error");
        assert_eq!(line["cause"], "connection refused");
    }

    #[test]
    fn an_unprintable_or_long_request_id_is_replaced() {
        for bad in ["", "a b", &"x".repeat(65)] {
            let id = log(&[("x-request-id", bad)]).request_id().to_owned();
            assert_ne!(id, bad);
            assert_eq!(id.len(), 16);
        }
    }
}
