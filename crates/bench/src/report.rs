//! What a run measured, as data: written to `bench/results/<timestamp>.json`
//! and read by the table, the chart and the goals.

use crate::data::OrderMix;
use crate::goals::Goal;
use crate::host::ComponentSize;
use crate::load::Stats;
use crate::machine::{Machine, Source};
use crate::otlp_sink::SinkReport;
use crate::pgbench::{OrderStatement, PgbenchRun};
use crate::runtime::Runtime;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::path::Path;

/// Percentiles of a latency histogram (µs), in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Recorded requests.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    /// Summarises `hist` (values in µs).
    pub fn of(hist: &Histogram<u64>) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            count: hist.len(),
            mean_ms: hist.mean() / 1000.0,
            p50_ms: ms(hist.value_at_quantile(0.50)),
            p90_ms: ms(hist.value_at_quantile(0.90)),
            p95_ms: ms(hist.value_at_quantile(0.95)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
            p999_ms: ms(hist.value_at_quantile(0.999)),
            max_ms: ms(hist.max()),
        }
    }
}

/// One request label within a run.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// E.g. `POST /api/order/`.
    pub label: String,
    /// Answered as expected per second.
    pub throughput_per_s: f64,
    /// Unexpected answers and transport failures.
    pub errors: u64,
    /// Latency of the expected answers.
    pub latency: Latency,
}

/// The seed-scale population behind a run.
#[derive(Debug, Clone, Serialize)]
pub struct Population {
    /// Concurrent users, each a registered member.
    pub users: usize,
    /// Mean of the exponential think time, seconds.
    pub think_mean_s: f64,
    /// Orders per second the users' schedules offer on average.
    pub offered_orders_per_s: f64,
    /// Orders the schedules actually held.
    pub scheduled_orders: u64,
    /// `POST /api/order/` answered 201 per second.
    pub orders_per_s: f64,
}

/// One scenario at one load.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Scenario name.
    pub scenario: String,
    /// `closed` (N users back to back), `open` (fixed rate) or `users`
    /// (a population of users on their own schedules).
    pub mode: &'static str,
    /// Virtual users (closed loop, users).
    pub concurrency: Option<usize>,
    /// Requests per second scheduled (open loop).
    pub rate_per_s: Option<f64>,
    /// Wall time of the run.
    pub duration_s: f64,
    /// Expected answers per second, all labels.
    pub throughput_per_s: f64,
    /// Errors, all labels.
    pub errors: u64,
    /// Latency, all labels.
    pub latency: Latency,
    /// Per request label.
    pub endpoints: Vec<Endpoint>,
    /// The runtime's peak RSS during this run (VmHWM reset before it), KiB.
    pub peak_rss_kib: Option<u64>,
    /// The population, for the seed-scale scenario.
    pub population: Option<Population>,
}

impl Run {
    /// Summarises `stats` of `scenario`.
    pub fn new(
        scenario: &str,
        mode: &'static str,
        concurrency: Option<usize>,
        rate: Option<f64>,
        stats: &Stats,
    ) -> Run {
        let secs = stats.elapsed.as_secs_f64().max(1e-9);
        let total = stats.total();
        Run {
            scenario: scenario.to_owned(),
            mode,
            concurrency,
            rate_per_s: rate,
            duration_s: secs,
            throughput_per_s: total.hist.len() as f64 / secs,
            errors: total.errors,
            latency: Latency::of(&total.hist),
            endpoints: stats
                .by_label
                .iter()
                .map(|(label, s)| Endpoint {
                    label: (*label).to_owned(),
                    throughput_per_s: s.hist.len() as f64 / secs,
                    errors: s.errors,
                    latency: Latency::of(&s.hist),
                })
                .collect(),
            peak_rss_kib: None,
            population: None,
        }
    }

    /// The entry of `label`, if the run sent such requests.
    pub fn endpoint(&self, label: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.label == label)
    }
}

/// Cold start: process spawn to the first 200 on `/api/menu/`.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// With an empty compile cache (every component compiled); only measured
    /// for `spin-host`, whose cache the bench owns.
    pub without_cache_ms: Option<f64>,
    /// The first start of the run, whatever the cache held (Spin's own cache).
    pub first_start_ms: f64,
    /// With the cache the previous start wrote.
    pub with_cache_ms: f64,
}

/// Everything one runtime served.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeRuns {
    /// The runtime: name, binary, version, environment.
    pub runtime: Runtime,
    /// Its start times.
    pub cold_start: ColdStart,
    /// Its peak RSS over all its runs (largest of the runs'), KiB.
    pub peak_rss_kib: Option<u64>,
    /// Every scenario run, in order.
    pub runs: Vec<Run>,
}

impl RuntimeRuns {
    /// The closed-loop run of `scenario` at `c` users.
    pub fn closed(&self, scenario: &str, c: usize) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.mode == "closed" && r.scenario == scenario && r.concurrency == Some(c))
    }

    /// The run of the seed-scale population.
    pub fn population(&self) -> Option<&Run> {
        self.runs.iter().find(|r| r.population.is_some())
    }
}

/// One runtime's order placements next to pgbench's at the same concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct AppShare {
    /// The runtime's name.
    pub runtime: String,
    /// Its `POST /api/order/` answers (201) per second in the order rush.
    pub orders_per_s: f64,
    /// `orders_per_s` / pgbench's transactions per second.
    pub to_ceiling: f64,
}

/// pgbench at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    /// The level (the app's virtual users).
    pub concurrency: usize,
    /// pgbench's clients: the level, at most the order role's connection
    /// limit (as many as the app's pool may hold).
    pub clients: usize,
    /// Transactions per second.
    pub tps: f64,
    /// Failed transactions.
    pub failed: u64,
    /// Per-transaction latency.
    pub latency: Latency,
    /// Each runtime's order rush at the same concurrency.
    pub app: Vec<AppShare>,
}

impl Ceiling {
    /// pgbench's `run` next to each runtime's order rush at the same concurrency.
    pub fn new(run: &PgbenchRun, runtimes: &[RuntimeRuns]) -> Ceiling {
        let app = runtimes
            .iter()
            .map(|rt| {
                let orders_per_s = rt
                    .closed(crate::scenario::ORDER_RUSH, run.concurrency)
                    .and_then(|r| r.endpoint(crate::scenario::ORDER_CREATE))
                    .map_or(0.0, |e| e.throughput_per_s);
                AppShare {
                    runtime: rt.runtime.name.to_owned(),
                    orders_per_s,
                    to_ceiling: if run.tps > 0.0 {
                        orders_per_s / run.tps
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        Ceiling {
            concurrency: run.concurrency,
            clients: run.clients,
            tps: run.tps,
            failed: run.failed,
            latency: Latency::of(&run.hist),
            app,
        }
    }
}

/// How the run's members were made.
#[derive(Debug, Clone, Serialize)]
pub struct Members {
    /// Registered and logged in through the app before any load.
    pub count: usize,
    /// Wall time of registering and logging them in (two argon2id each).
    pub setup_s: f64,
}

/// Everything one run measured; written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// UTC start time, `YYYYMMDDTHHMMSSZ`.
    pub started_at: String,
    /// `full`, `quick` or `smoke`.
    pub mode: String,
    /// The commit the run was built from.
    pub source: Source,
    /// The machine.
    pub machine: Machine,
    /// The wasm components and their sizes.
    pub components: Vec<ComponentSize>,
    /// The orders replayed.
    pub order_mix: OrderMix,
    /// The statement pgbench ran.
    pub order_statement: OrderStatement,
    /// The members the scenarios use.
    pub members: Members,
    /// Each runtime's runs: `spin-host` first, then `spin-host+otlp` if
    /// asked, then `spin` if given.
    pub runtimes: Vec<RuntimeRuns>,
    /// What `spin-host+otlp` exported, over all its starts and runs.
    pub otlp_sink: Option<SinkReport>,
    /// pgbench against the app, per concurrency.
    pub ceiling: Vec<Ceiling>,
    /// The goals, measured.
    pub goals: Vec<Goal>,
    /// All errors (unexpected statuses, transport failures, failed pgbench transactions).
    pub errors: u64,
    /// A few of them.
    pub error_samples: Vec<String>,
    /// Wall time of the whole benchmark.
    pub wall_time_s: f64,
}

/// Writes `value` as pretty JSON.
pub fn write_json(value: &impl Serialize, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}
