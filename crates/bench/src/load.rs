//! Load modes: a closed loop of N virtual users, and an open loop at a fixed
//! rate whose latencies run from each request's *intended* send time, so a
//! slow server cannot hide its queueing (no coordinated omission).

use crate::client::{Answer, Client, Req, send};
use crate::scenario::Scenario;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How many unexpected answers are kept verbatim for the report.
const ERROR_SAMPLES: usize = 5;

/// Latencies (µs) and errors of one request label.
pub struct LabelStats {
    /// Latency of every request that got an expected status.
    pub hist: Histogram<u64>,
    /// Requests that failed or got an unexpected status.
    pub errors: u64,
}

/// What one run measured.
pub struct Stats {
    /// Per request label.
    pub by_label: BTreeMap<&'static str, LabelStats>,
    /// Wall time from the first send to the last answer.
    pub elapsed: Duration,
    /// A few unexpected answers, for diagnosis.
    pub error_samples: Vec<String>,
}

/// A latency histogram from 1 µs to 10 min with 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    /// Nothing recorded yet.
    pub fn new() -> Stats {
        Stats {
            by_label: BTreeMap::new(),
            elapsed: Duration::ZERO,
            error_samples: Vec::new(),
        }
    }

    /// Records the answer to `req` that took `latency`.
    pub fn record(&mut self, req: &Req, latency: Duration, outcome: &anyhow::Result<Answer>) {
        let entry = self
            .by_label
            .entry(req.label)
            .or_insert_with(|| LabelStats {
                hist: histogram(),
                errors: 0,
            });
        let failure = match outcome {
            Ok(answer) if req.expect.contains(&answer.status) => {
                entry
                    .hist
                    .saturating_record(latency.as_micros().max(1) as u64);
                return;
            }
            Ok(answer) => format!(
                "{}: status {}: {}",
                req.label,
                answer.status,
                String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)])
            ),
            Err(e) => format!("{}: {e:#}", req.label),
        };
        entry.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(failure);
        }
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: Stats) {
        for (label, s) in other.by_label {
            let entry = self.by_label.entry(label).or_insert_with(|| LabelStats {
                hist: histogram(),
                errors: 0,
            });
            entry.hist.add(&s.hist).expect("same histogram bounds");
            entry.errors += s.errors;
        }
        let room = ERROR_SAMPLES.saturating_sub(self.error_samples.len());
        self.error_samples
            .extend(other.error_samples.into_iter().take(room));
    }

    /// All labels merged.
    pub fn total(&self) -> LabelStats {
        let mut hist = histogram();
        let mut errors = 0;
        for s in self.by_label.values() {
            hist.add(&s.hist).expect("same histogram bounds");
            errors += s.errors;
        }
        LabelStats { hist, errors }
    }
}

/// `users` virtual users, each sending its next request as soon as the last
/// one is answered, for `duration`.
pub async fn closed_loop(
    client: &Client,
    scenario: Arc<dyn Scenario>,
    users: usize,
    duration: Duration,
) -> Stats {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = JoinSet::new();
    for user in 0..users {
        let (client, scenario) = (client.clone(), scenario.clone());
        tasks.spawn(async move {
            let mut stats = Stats::new();
            let mut iter = 0;
            while Instant::now() < deadline {
                let req = scenario.request(user, iter);
                iter += 1;
                let sent = Instant::now();
                let outcome = send(&client, &req).await;
                stats.record(&req, sent.elapsed(), &outcome);
            }
            stats
        });
    }
    let mut stats = Stats::new();
    while let Some(done) = tasks.join_next().await {
        stats.merge(done.expect("load task panicked"));
    }
    stats.elapsed = start.elapsed();
    stats
}

/// Requests at `rate` per second for `duration`, each sent at its scheduled
/// time whether or not earlier ones were answered; latency counts from the
/// scheduled time.
pub async fn open_loop(
    client: &Client,
    scenario: Arc<dyn Scenario>,
    rate: f64,
    duration: Duration,
) -> Stats {
    let count = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let intended = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(intended).await;
        let req = scenario.request(0, i);
        let client = client.clone();
        tasks.spawn(async move {
            let outcome = send(&client, &req).await;
            (req, intended.elapsed(), outcome)
        });
    }
    let mut stats = Stats::new();
    while let Some(done) = tasks.join_next().await {
        let (req, latency, outcome) = done.expect("load task panicked");
        stats.record(&req, latency, &outcome);
    }
    stats.elapsed = start.elapsed();
    stats
}
