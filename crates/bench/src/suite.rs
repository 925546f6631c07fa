//! Every scenario against one runtime: a warm start, then the closed loops
//! (menu 200, menu 304, order rush, login storm), the open loops and the
//! seed-scale population, each with the runtime's peak RSS during it.

use crate::client::{self, Client};
use crate::host::Host;
use crate::load;
use crate::members::Member;
use crate::plan::Plan;
use crate::report::{self, ColdStart, Run, RuntimeRuns};
use crate::runtime::Runtime;
use crate::scenario::{
    LoginStorm, MENU_200, MENU_304, MenuBrowse, ORDER_RUSH, OrderRush, Scenario,
};
use crate::seed;
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The scenarios that also run in an open loop.
pub const OPEN_SCENARIOS: [&str; 3] = [MENU_200, MENU_304, ORDER_RUSH];

/// What every runtime is given: the same plan, members, orders and rates.
pub struct Load<'a> {
    /// Levels and durations.
    pub plan: &'a Plan,
    /// The registered members.
    pub members: &'a [Member],
    /// The data set's orders as request bodies.
    pub orders: &'a [Bytes],
    /// Open-loop rates per scenario; `None`: half the scenario's best closed-loop throughput.
    pub open_rates: Option<Vec<(String, f64)>>,
    /// The manifest the runtime serves.
    pub manifest: &'a Path,
    /// The app's variables.
    pub variables: &'a [(String, String)],
    /// Where the runtime's log goes.
    pub log_dir: &'a Path,
}

/// Starts `runtime` (its compile cache already warm), runs every scenario,
/// stops it. `first_start` is the run's first start of this runtime and
/// `without_cache` that start's time if it compiled everything. Returns the
/// runs and a few error samples.
pub async fn measure(
    runtime: &Runtime,
    load: &Load<'_>,
    first_start: Duration,
    without_cache: Option<Duration>,
) -> anyhow::Result<(RuntimeRuns, Vec<String>)> {
    let client = client::client();
    let log = load.log_dir.join(format!("{}.log", runtime.name));
    let mut host = Host::spawn(runtime, load.manifest, load.variables, &log)?;
    let warm = host.first_200(&client, "/api/menu/").await?;
    eprintln!(
        "pizza-bench: {} warm start served in {warm:?}",
        runtime.name
    );
    let base = host.base_url.clone();
    let mut etags = [None, None];
    let plain = MenuBrowse::fresh(&base);
    for (i, tag) in etags.iter_mut().enumerate() {
        *tag = client::send_expect(&client, &plain.request(0, i as u64))
            .await?
            .etag;
    }
    let fresh: Arc<dyn Scenario> = Arc::new(plain);
    let revalidate: Arc<dyn Scenario> = Arc::new(MenuBrowse::revalidate(&base, etags));
    let rush: Arc<dyn Scenario> = Arc::new(OrderRush::new(
        &base,
        load.members.to_vec(),
        load.orders.to_vec(),
    ));
    let login: Arc<dyn Scenario> = Arc::new(LoginStorm::new(&base, load.members));

    let mut m = Measuring {
        host: &host,
        client: &client,
        runtime: runtime.name,
        runs: Vec::new(),
        samples: Vec::new(),
    };
    let plan = load.plan;
    for scenario in [&fresh, &revalidate, &rush] {
        for &c in &plan.levels {
            m.closed(scenario, c, plan.level_time).await;
        }
    }
    for &c in &plan.login_levels {
        m.closed(&login, c, plan.login_time).await;
    }
    for scenario in [&fresh, &revalidate, &rush] {
        let rate = match &load.open_rates {
            Some(rates) => rates
                .iter()
                .find(|(name, _)| name == scenario.name())
                .map_or(1.0, |(_, r)| *r),
            None => {
                let best = m
                    .runs
                    .iter()
                    .filter(|r| r.scenario == scenario.name())
                    .map(|r| r.throughput_per_s)
                    .fold(0.0, f64::max);
                (best / 2.0).max(1.0).round()
            }
        };
        m.open(scenario, rate, plan.open_time).await;
    }
    m.population(&base, load.members, load.orders, plan.population)
        .await;

    let Measuring { runs, samples, .. } = m;
    host.stop();
    let peak_rss_kib = runs.iter().filter_map(|r| r.peak_rss_kib).max();
    let runs = RuntimeRuns {
        runtime: runtime.clone(),
        cold_start: ColdStart {
            without_cache_ms: without_cache.map(|d| d.as_secs_f64() * 1000.0),
            first_start_ms: first_start.as_secs_f64() * 1000.0,
            with_cache_ms: warm.as_secs_f64() * 1000.0,
        },
        peak_rss_kib,
        runs,
    };
    Ok((runs, samples))
}

/// The open-loop rates `runs` used, for the next runtime to use the same.
pub fn open_rates(runs: &RuntimeRuns) -> Vec<(String, f64)> {
    runs.runs
        .iter()
        .filter(|r| r.mode == "open")
        .filter_map(|r| Some((r.scenario.clone(), r.rate_per_s?)))
        .collect()
}

/// The runs of one runtime so far.
struct Measuring<'a> {
    host: &'a Host,
    client: &'a Client,
    runtime: &'static str,
    runs: Vec<Run>,
    samples: Vec<String>,
}

impl Measuring<'_> {
    /// Resets the peak-RSS window, runs `work`, keeps its run with the peak.
    async fn keep(&mut self, work: impl Future<Output = (Run, Vec<String>)>) {
        let windowed = self.host.reset_peak_rss();
        let (mut run, samples) = work.await;
        run.peak_rss_kib = if windowed {
            self.host.peak_rss_kib()
        } else {
            None
        };
        self.samples.extend(samples);
        self.runs.push(run);
    }

    async fn closed(&mut self, scenario: &Arc<dyn Scenario>, c: usize, time: Duration) {
        eprintln!(
            "pizza-bench: {} {} closed loop c={c} for {time:?}",
            self.runtime,
            scenario.name()
        );
        let (client, scenario) = (self.client, scenario.clone());
        self.keep(async move {
            let stats = load::closed_loop(client, scenario.clone(), c, time).await;
            let run = Run::new(scenario.name(), "closed", Some(c), None, &stats);
            (run, stats.error_samples)
        })
        .await;
    }

    async fn open(&mut self, scenario: &Arc<dyn Scenario>, rate: f64, time: Duration) {
        eprintln!(
            "pizza-bench: {} {} open loop at {rate}/s for {time:?}",
            self.runtime,
            scenario.name()
        );
        let (client, scenario) = (self.client, scenario.clone());
        self.keep(async move {
            let stats = load::open_loop(client, scenario.clone(), rate, time).await;
            let run = Run::new(scenario.name(), "open", None, Some(rate), &stats);
            (run, stats.error_samples)
        })
        .await;
    }

    async fn population(
        &mut self,
        base: &str,
        members: &[Member],
        orders: &[Bytes],
        population: seed::Population,
    ) {
        eprintln!(
            "pizza-bench: {} seed scale: {} users, think time exp(mean {:?}), for {:?}",
            self.runtime, population.users, population.think_mean, population.duration
        );
        let client = self.client;
        self.keep(async move {
            let outcome = seed::run(client, base, members, orders.to_vec(), population).await;
            let mut run = Run::new(
                seed::SEED_SCALE,
                "users",
                Some(population.users),
                None,
                &outcome.stats,
            );
            let orders_per_s = run
                .endpoint(crate::scenario::ORDER_CREATE)
                .map_or(0.0, |e| e.throughput_per_s);
            run.population = Some(report::Population {
                users: population.users,
                think_mean_s: population.think_mean.as_secs_f64(),
                offered_orders_per_s: population.offered_orders_per_s(),
                scheduled_orders: outcome.scheduled_orders,
                orders_per_s,
            });
            (run, outcome.stats.error_samples)
        })
        .await;
    }
}
