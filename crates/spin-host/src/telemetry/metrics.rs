//! The host's metrics. One comes from Spin 3.6.3 itself, under its name and
//! attributes: `spin.request_count` (a counter per routed request; the
//! trigger's). The others are the host's own, named after OpenTelemetry's
//! semantic conventions, for what an operator alerts on:
//!
//! - `http.server.request.duration` (histogram, seconds): RED per route,
//!   with `http.request.method`, `http.route`, `http.response.status_code`;
//! - `spin_host.instances.active` (up-down counter): instances running, per
//!   `component_id`;
//! - `db.client.connection.count` (by `db.client.connection.state`, `idle` or
//!   `used`), `db.client.connection.max`,
//!   `db.client.connection.pending_requests` (gauges) and
//!   `db.client.connection.wait_time` (histogram, seconds): each PostgreSQL
//!   pool, named `user@host:port/database` (never its password).
//!
//! Nothing is recorded unless metrics are exported ([`enable`]); the checks
//! are one relaxed atomic load.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Histogram bounds for request durations and pool waits, in seconds: the
/// semantic conventions' advice, plus 25 and 30 s for long polls.
const DURATION_BOUNDS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 30.0,
];

/// Turns recording on (metrics are exported; the global meter provider is set).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether metrics are recorded.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

struct Instruments {
    request_count: Counter<u64>,
    request_duration: Histogram<f64>,
    instances: UpDownCounter<i64>,
    pool_wait: Histogram<f64>,
}

fn meter() -> Meter {
    opentelemetry::global::meter("spin")
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let m = meter();
    Instruments {
        request_count: m.u64_counter("spin.request_count").build(),
        request_duration: m
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests, to the response head.")
            .with_boundaries(DURATION_BOUNDS.to_vec())
            .build(),
        instances: m
            .i64_up_down_counter("spin_host.instances.active")
            .with_description("Component instances running a request.")
            .build(),
        pool_wait: m
            .f64_histogram("db.client.connection.wait_time")
            .with_unit("s")
            .with_description("Time to obtain a pooled PostgreSQL connection.")
            .with_boundaries(DURATION_BOUNDS.to_vec())
            .build(),
    }
});

/// Counts a request routed to `component` of app `app_id` (Spin's metric).
pub fn request_routed(app_id: &str, component: &str) {
    if !enabled() {
        return;
    }
    INSTRUMENTS.request_count.add(
        1,
        &[
            KeyValue::new("trigger_type", "http"),
            KeyValue::new("app_id", app_id.to_owned()),
            KeyValue::new("component_id", component.to_owned()),
        ],
    );
}

/// Records a request's duration to its response head.
pub fn request_served(method: &str, route: Option<&str>, status: u16, duration: Duration) {
    if !enabled() {
        return;
    }
    let mut attributes = vec![
        KeyValue::new("http.request.method", method.to_owned()),
        KeyValue::new("http.response.status_code", i64::from(status)),
    ];
    if let Some(route) = route {
        attributes.push(KeyValue::new("http.route", route.to_owned()));
    }
    INSTRUMENTS
        .request_duration
        .record(duration.as_secs_f64(), &attributes);
}

/// An instance of a component is running until this is dropped.
pub struct ActiveInstance(Option<KeyValue>);

/// Counts an instance of `component` as running.
pub fn instance_started(component: &str) -> ActiveInstance {
    if !enabled() {
        return ActiveInstance(None);
    }
    let attribute = KeyValue::new("component_id", component.to_owned());
    INSTRUMENTS
        .instances
        .add(1, std::slice::from_ref(&attribute));
    ActiveInstance(Some(attribute))
}

impl Drop for ActiveInstance {
    fn drop(&mut self) {
        if let Some(attribute) = self.0.take() {
            INSTRUMENTS.instances.add(-1, &[attribute]);
        }
    }
}

/// Records how long obtaining a connection from pool `pool` took.
pub fn pool_waited(pool: &str, waited: Duration) {
    if !enabled() {
        return;
    }
    INSTRUMENTS.pool_wait.record(
        waited.as_secs_f64(),
        &[KeyValue::new(
            "db.client.connection.pool.name",
            pool.to_owned(),
        )],
    );
}

/// One pool's state when metrics are collected.
pub struct PoolState {
    /// `user@host:port/database`.
    pub name: String,
    /// Connections open and idle in the pool.
    pub idle: u64,
    /// Connections handed out.
    pub used: u64,
    /// The pool's limit.
    pub max: u64,
    /// Requests waiting for a connection.
    pub waiting: u64,
}

/// Reports the pools `states` returns at each collection, as gauges.
pub fn observe_pools(states: impl Fn() -> Vec<PoolState> + Send + Sync + 'static) {
    if !enabled() {
        return;
    }
    let states = std::sync::Arc::new(states);
    let m = meter();
    let name = |s: &PoolState| KeyValue::new("db.client.connection.pool.name", s.name.clone());
    let count = states.clone();
    m.u64_observable_gauge("db.client.connection.count")
        .with_description("PostgreSQL connections in each pool, by state.")
        .with_callback(move |o| {
            for s in count() {
                let state = |v: &'static str| KeyValue::new("db.client.connection.state", v);
                o.observe(s.idle, &[name(&s), state("idle")]);
                o.observe(s.used, &[name(&s), state("used")]);
            }
        })
        .build();
    let max = states.clone();
    m.u64_observable_gauge("db.client.connection.max")
        .with_description("The most connections each pool opens.")
        .with_callback(move |o| {
            for s in max() {
                o.observe(s.max, &[name(&s)]);
            }
        })
        .build();
    m.u64_observable_gauge("db.client.connection.pending_requests")
        .with_description("Requests waiting for a connection of each pool.")
        .with_callback(move |o| {
            for s in states() {
                o.observe(s.waiting, &[name(&s)]);
            }
        })
        .build();
}
