//! `pizza-bench` (`make bench`): replays the real pizza place against the app
//! and measures, in the same run, what the database itself can do.
//!
//! One run: a throw-away PostgreSQL (migrated and seeded), `spin-host`
//! serving the real `spin.toml` (cold start measured without and with the
//! compile cache), members registered and logged in up front, then the menu
//! browse, order rush and login storm scenarios in closed loops and an open
//! loop, pgbench running the order endpoint's own statement at the same
//! concurrencies, and the report (stdout table, JSON, PNG). Exits non-zero if
//! any request got an unexpected answer.

mod client;
mod data;
mod db;
mod host;
mod load;
mod pgbench;
mod plan;
mod report;
mod scenario;

use clap::Parser;
use plan::{Mode, Plan};
use report::{Ceiling, ColdStart, Report, Run};
use scenario::{LoginStorm, MenuBrowse, OrderRush, Scenario};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Command line.
#[derive(Parser)]
#[command(about = "Benchmarks the pizza app against the database's own ceiling")]
struct Cli {
    /// The short run (under 2 minutes): fewer levels, about 3 s each.
    #[arg(long, conflicts_with = "smoke")]
    quick: bool,
    /// A few requests per scenario, to keep the benchmark working (`make test`); writes no results.
    #[arg(long)]
    smoke: bool,
    /// Where the JSON and PNG go (relative to the workspace root).
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,
    /// Open-loop rate in requests per second (default: half the scenario's best closed-loop throughput).
    #[arg(long)]
    open_rate: Option<f64>,
}

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(0) => {}
        Ok(_) => std::process::exit(1),
        Err(e) => {
            eprintln!("pizza-bench: {e:#}");
            eprintln!("errors: run aborted");
            std::process::exit(2);
        }
    }
}

/// Runs everything; returns the error count.
fn run(cli: Cli) -> anyhow::Result<u64> {
    let wall = Instant::now();
    let mode = match (cli.smoke, cli.quick) {
        (true, _) => Mode::Smoke,
        (false, true) => Mode::Quick,
        (false, false) => Mode::Full,
    };
    let plan = Plan::new(mode);
    let started_at = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let root = testkit::workspace_root();
    let work = root.join("target/bench");
    let data_dir = std::env::var_os("PIZZA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("data/pizza-sales"));

    let (manifest, components) = host::bench_manifest(&root, &work)?;
    eprintln!("pizza-bench: starting PostgreSQL, migrating, seeding");
    let db = db::Database::start(&root, &data_dir)?;
    let (orders, order_mix) = data::order_bodies(&data_dir, &db.branches())?;
    db.log_order_statements(true);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut report = rt.block_on(async {
        let client = client::client();
        let bin = testkit::host_bin();
        let vars = db.variables();

        // Start 1: empty compile cache; members; orders whose SQL PostgreSQL logs.
        if plan.cold_without_cache {
            let _ = std::fs::remove_dir_all(host::cache_dir(&manifest));
        }
        let mut host = host::Host::spawn(&bin, &manifest, &vars, &work.join("host-start.log"))?;
        let first = host.first_200(&client, "/api/menu/").await?;
        eprintln!(
            "pizza-bench: first start served in {first:?}; registering {} members",
            plan.members
        );
        let members = scenario::members(&client, &host.base_url, &started_at, plan.members).await?;
        let rush = OrderRush::new(&host.base_url, members.clone(), orders.clone());
        for _ in 0..plan.captured_orders {
            client::send_expect(&client, &rush.next_order()).await?;
        }
        host.stop();
        db.log_order_statements(false);
        let statement = pgbench::capture(&db.server_log())?;
        let script_args = pgbench::scripts(&statement, &work.join("pgbench"))?;

        // Start 2: warm cache; the measured runs.
        let mut host = host::Host::spawn(&bin, &manifest, &vars, &work.join("host.log"))?;
        let warm = host.first_200(&client, "/api/menu/").await?;
        eprintln!("pizza-bench: warm start served in {warm:?}");
        let base = host.base_url.clone();
        let mut etags = [None, None];
        for (tag, path) in etags.iter_mut().zip(["/api/menu/", "/api/menu/types/"]) {
            let resp = client.get(format!("{base}{path}").parse()?).await?;
            *tag = resp.headers().get(http::header::ETAG).cloned();
        }
        let menu: Arc<dyn Scenario> = Arc::new(MenuBrowse::new(&base, etags));
        let rush: Arc<dyn Scenario> = Arc::new(OrderRush::new(&base, members.clone(), orders));
        let login: Arc<dyn Scenario> = Arc::new(LoginStorm::new(&base, &members));

        let mut runs = Vec::new();
        let mut ceiling = Vec::new();
        let mut samples = Vec::new();
        let mut closed = async |scenario: &Arc<dyn Scenario>, c: usize, secs: Duration| {
            eprintln!(
                "pizza-bench: {} closed loop c={c} for {secs:?}",
                scenario.name()
            );
            let stats = load::closed_loop(&client, scenario.clone(), c, secs).await;
            samples.extend(stats.error_samples.iter().cloned());
            Run::new(scenario.name(), "closed", Some(c), None, &stats)
        };
        for &c in &plan.levels {
            runs.push(closed(&menu, c, plan.level_time).await);
        }
        let login_db = db.order_login();
        for &c in &plan.levels {
            let app = closed(&rush, c, plan.level_time).await;
            eprintln!("pizza-bench: pgbench c={c} for {:?}", plan.level_time);
            let pg = tokio::task::block_in_place(|| {
                pgbench::run(
                    &script_args,
                    &login_db,
                    c,
                    plan.level_time,
                    &work.join("pgbench"),
                )
            })?;
            ceiling.push(Ceiling::new(&pg, &app));
            runs.push(app);
        }
        for &c in &plan.login_levels {
            runs.push(closed(&login, c, plan.login_time).await);
        }
        for scenario in [&menu, &rush] {
            let best = runs
                .iter()
                .filter(|r| r.scenario == scenario.name())
                .map(|r| r.throughput_per_s)
                .fold(0.0, f64::max);
            let rate = cli.open_rate.unwrap_or((best / 2.0).max(1.0)).round();
            eprintln!(
                "pizza-bench: {} open loop at {rate}/s for {:?}",
                scenario.name(),
                plan.open_time
            );
            let stats = load::open_loop(&client, scenario.clone(), rate, plan.open_time).await;
            samples.extend(stats.error_samples.iter().cloned());
            runs.push(Run::new(scenario.name(), "open", None, Some(rate), &stats));
        }
        let peak_rss = host.peak_rss_kib();
        host.stop();

        let errors = runs.iter().map(|r| r.errors).sum::<u64>()
            + ceiling.iter().map(|c| c.failed).sum::<u64>();
        samples.truncate(10);
        anyhow::Ok(Report {
            started_at: started_at.clone(),
            mode: mode.name().to_owned(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            components,
            cold_start: ColdStart {
                without_cache_ms: plan
                    .cold_without_cache
                    .then_some(first.as_secs_f64() * 1000.0),
                with_cache_ms: warm.as_secs_f64() * 1000.0,
            },
            host_peak_rss_kib: peak_rss,
            order_mix,
            order_statement: statement,
            runs,
            ceiling,
            errors,
            error_samples: samples,
            wall_time_s: 0.0,
        })
    })?;
    drop(db);
    report.wall_time_s = wall.elapsed().as_secs_f64();

    if mode != Mode::Smoke {
        let out_dir = root.join(&cli.out_dir);
        std::fs::create_dir_all(&out_dir)?;
        let json = out_dir.join(format!("{started_at}.json"));
        let png = out_dir.join(format!("{started_at}.png"));
        report::write_json(&report, &json)?;
        report::write_chart(&report, &png)?;
        print!("{}", report::table(&report));
        println!("results: {}, {}", json.display(), png.display());
    } else {
        print!("{}", report::table(&report));
    }
    Ok(report.errors)
}
