//! The HTTP side: blocking clients (one agent, so one keep-alive connection,
//! per client thread, as each customer's browser has its own), and the record
//! kept of every request so that the database can be checked against it.

use serde::Serialize;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a client waits for a whole answer before it gives up. Every
/// bound the scenarios check is shorter, so a request cut off by this is a
/// hang, never a slow success.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A new client: statuses come back as answers (not errors), [`CLIENT_TIMEOUT`].
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(CLIENT_TIMEOUT))
        .build()
        .into()
}

/// Milliseconds since the run's clock started: requests and injected faults
/// share this clock, so a request can be placed inside or outside a fault.
pub fn now_ms() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// How a request ended.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer within [`CLIENT_TIMEOUT`].
    Timeout,
    /// The connection failed (refused, reset, closed early).
    ConnectionError(String),
}

/// What a request was for, so that orders can be checked and retried.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `POST /api/order/` with a unique `Idempotency-Key`.
    Order,
    /// `GET /api/order/myorder/`.
    MyOrder,
}

/// One request as the client saw it: everything needed to replay it and to
/// find what it should have written.
#[derive(Clone, Debug, Serialize)]
pub struct Shot {
    /// Order or history.
    pub kind: Kind,
    /// The member (their id) the request was sent for.
    pub member: String,
    /// The `Idempotency-Key` (orders).
    pub key: Option<String>,
    /// The request body (orders).
    pub body: Option<String>,
    /// Number of lines in the order body (orders), to check `order_detail`.
    pub lines: usize,
    /// When it was sent, on the [`now_ms`] clock.
    pub start_ms: f64,
    /// How long until the whole answer was read (or the failure).
    pub latency_ms: f64,
    /// The status or the failure.
    pub outcome: Outcome,
    /// Whether the answer was `Content-Type: application/json`.
    pub json: bool,
    /// Whether the answer carried `Retry-After`.
    pub retry_after: bool,
    /// `order_id` of a 201 answer.
    pub order_id: Option<i64>,
    /// The start of the answer's body (up to 200 bytes), for evidence.
    pub answer: String,
}

impl Shot {
    /// The status, if there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Status(s) => Some(s),
            _ => None,
        }
    }

    /// When the answer (or the failure) came, on the [`now_ms`] clock.
    pub fn end_ms(&self) -> f64 {
        self.start_ms + self.latency_ms
    }

    /// Whether the client got no HTTP answer at all.
    pub fn transport_failed(&self) -> bool {
        self.status().is_none()
    }

    /// Whether this is a 503 as the app promises it: JSON with `Retry-After`.
    pub fn proper_503(&self) -> bool {
        self.status() == Some(503) && self.json && self.retry_after
    }

    /// Whether the request was being served at instant `t` (ms).
    pub fn spans(&self, t: f64) -> bool {
        self.start_ms <= t && t <= self.end_ms()
    }

    /// One line of evidence for a report.
    pub fn describe(&self) -> String {
        let outcome = match &self.outcome {
            Outcome::Status(s) => format!("{s}"),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::ConnectionError(e) => format!("connection error ({e})"),
        };
        format!(
            "{:?} key={} at {:.0} ms: {outcome} after {:.0} ms {}",
            self.kind,
            self.key.as_deref().unwrap_or("-"),
            self.start_ms,
            self.latency_ms,
            self.answer
        )
    }
}

/// A member who can order: their id and a Bearer token.
#[derive(Clone, Debug)]
pub struct Member {
    /// `member.member_id`.
    pub id: String,
    /// A valid token.
    pub token: String,
}

/// Sends `POST /api/order/` for `member` with `key` and `body`.
pub fn order(agent: &ureq::Agent, base: &str, member: &Member, key: &str, body: &str) -> Shot {
    let auth = format!("Bearer {}", member.token);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    let mut shot = send(
        agent,
        "POST",
        &format!("{base}/api/order/"),
        &headers,
        Some(body),
    );
    shot.kind = Kind::Order;
    shot.member = member.id.clone();
    shot.key = Some(key.to_owned());
    shot.body = Some(body.to_owned());
    shot.lines = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["lines"].as_array().map(Vec::len))
        .unwrap_or(0);
    shot
}

/// Sends `GET /api/order/myorder/` for `member`.
pub fn my_orders(agent: &ureq::Agent, base: &str, member: &Member) -> Shot {
    let auth = format!("Bearer {}", member.token);
    let headers = [("authorization", auth.as_str())];
    let mut shot = send(
        agent,
        "GET",
        &format!("{base}/api/order/myorder/"),
        &headers,
        None,
    );
    shot.member = member.id.clone();
    shot
}

/// Sends one request and records how it went (never panics on a failure).
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Shot {
    let mut shot = Shot {
        kind: Kind::MyOrder,
        member: String::new(),
        key: None,
        body: None,
        lines: 0,
        start_ms: now_ms(),
        latency_ms: 0.0,
        outcome: Outcome::Timeout,
        json: false,
        retry_after: false,
        order_id: None,
        answer: String::new(),
    };
    let started = Instant::now();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(body.unwrap_or_default().as_bytes().to_vec())
        .expect("a valid request");
    match agent.run(request) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            shot.json = header("content-type").as_deref() == Some("application/json");
            shot.retry_after = header("retry-after").is_some();
            match response.body_mut().read_to_string() {
                Ok(text) => {
                    shot.outcome = Outcome::Status(status);
                    if status == 201 {
                        shot.order_id = serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v["order_id"].as_i64());
                    }
                    shot.answer = text.chars().take(200).collect();
                }
                Err(e) => shot.outcome = failure(e),
            }
        }
        Err(e) => shot.outcome = failure(e),
    }
    shot.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    shot
}

fn failure(e: ureq::Error) -> Outcome {
    match e {
        ureq::Error::Timeout(_) => Outcome::Timeout,
        other => Outcome::ConnectionError(other.to_string()),
    }
}
