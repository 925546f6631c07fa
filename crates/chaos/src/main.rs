//! `pizza-chaos` (`make chaos`): faults injected into the running app, on
//! loopback only, in a few minutes.
//!
//! One run: a throw-away PostgreSQL with `make up`'s settings
//! (`testkit::MAKE_UP_SETTINGS`), migrated and seeded; `spin-host`
//! serving the real `spin.toml`; then four scenarios, each under load from
//! client threads that record every request (key, body, status, answer,
//! latency): PostgreSQL SIGKILLed and restarted twice, a table locked for
//! 30 s, the connection pool exhausted, and the host stopped with SIGTERM.
//! After each, every order without a 201 is sent once more with the same key
//! and body, and the database is checked against what the clients were told.
//! Prints the figures, writes `target/chaos/<UTC timestamp>.json` (plus every
//! request as JSON lines and the host's log next to it) and exits 1 if any
//! scenario failed its criteria, 2 if the run could not be carried out.

mod client;
mod ledger;
mod load;
mod report;
mod scenario;

use clap::Parser;
use client::Shot;
use load::Menu;
use pizza_e2e::TestApp;
use report::{Figures, Report, ScenarioReport};
use serde_json::json;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use testkit::{Host, PgBouncer, Postgres};

/// The application database.
pub const DB: &str = "pizza";

/// Variables the app runs with beyond pizza-e2e's: the few chaos members
/// place hundreds of orders each, which the per-member limit (20 per ten
/// minutes) exists to refuse; the run tests faults, not that limit.
pub const HOST_OVERRIDES: &[(&str, &str)] = &[("member_order_limit", "0")];

/// The scenarios, in the order they run (the host is stopped by the last).
const SCENARIOS: [&str; 4] = [
    "postgres-killed",
    "table-locked",
    "pool-exhausted",
    "host-sigterm",
];

/// Command line.
#[derive(Parser)]
#[command(about = "Injects faults into the pizza app and checks nothing acknowledged is lost")]
struct Cli {
    /// Where the report goes (relative to the workspace root).
    #[arg(long, default_value = "target/chaos")]
    out_dir: PathBuf,
    /// Run only these scenarios (repeatable; default: all, in order).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SCENARIOS))]
    only: Vec<String>,
    /// Put PgBouncer (transaction mode, as the stg/prod `Pooler` runs it)
    /// between the app and PostgreSQL.
    #[arg(long)]
    pooler: bool,
}

/// What every scenario needs: the database server (to kill it), its
/// superuser URL (to lock tables and check the books), the menu, and the
/// pooler the app reaches the database through, if any.
pub struct Env {
    /// The cluster.
    pub pg: Postgres,
    /// Superuser URL of [`DB`].
    pub admin_url: String,
    /// What orders can contain.
    pub menu: Arc<Menu>,
    /// PgBouncer between the app and `pg` (`--pooler`).
    pub pooler: Option<PgBouncer>,
}

impl Env {
    /// Starts a host serving [`DB`] with [`HOST_OVERRIDES`], through the pooler if there is one.
    pub fn serve(&self) -> (Host, TestApp) {
        let mut vars: Vec<(String, String)> = self
            .pooler
            .as_ref()
            .map(|p| pizza_e2e::pooler_variables(p, DB))
            .unwrap_or_default();
        vars.extend(
            HOST_OVERRIDES
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pizza_e2e::serve(&self.pg, DB, &vars)
    }
}

/// A scenario's result and its record of requests.
pub struct Finished {
    /// Figures and failed criteria.
    pub report: ScenarioReport,
    /// Every request made under the fault.
    pub shots: Vec<Shot>,
    /// The second attempts of orders that got no 201.
    pub retries: Vec<Shot>,
    /// The output of a host the scenario stopped.
    pub host_log: Option<String>,
}

impl Finished {
    /// A result without a host log.
    pub fn new(report: ScenarioReport, shots: Vec<Shot>, retries: Vec<Shot>) -> Self {
        Finished {
            report,
            shots,
            retries,
            host_log: None,
        }
    }

    /// A scenario that could not be carried out (an error or a panic).
    fn aborted(name: &'static str, why: String) -> Self {
        Finished::new(
            ScenarioReport::new(
                name,
                "aborted",
                vec![format!("aborted: {why}")],
                Figures::default(),
            ),
            Vec::new(),
            Vec::new(),
        )
    }
}

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("pizza-chaos: {e:#}");
            std::process::exit(2);
        }
    }
}

/// Runs a scenario, turning an error or a panic into a failed result so the
/// others still run and the report is still written.
fn guarded(name: &'static str, f: impl FnOnce() -> anyhow::Result<Finished>) -> Finished {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(finished)) => finished,
        Ok(Err(e)) => Finished::aborted(name, format!("{e:#}")),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".to_owned());
            Finished::aborted(name, why)
        }
    }
}

/// Runs everything; returns whether every scenario passed.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let wall = Instant::now();
    client::now_ms();
    let started_at = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let root = testkit::workspace_root();
    let out_dir = root.join(&cli.out_dir);
    std::fs::create_dir_all(&out_dir)?;
    let selected = |name: &str| cli.only.is_empty() || cli.only.iter().any(|o| o == name);

    eprintln!("pizza-chaos: starting PostgreSQL with make up's settings, migrating, seeding");
    // make up's settings: PostgreSQL's defaults plus testkit::MAKE_UP_SETTINGS.
    let pg = Postgres::start();
    pg.create_database(DB);
    let admin_url = pg.superuser_url(DB);
    pizza_e2e::prepare_database(&admin_url, true);
    let show = |what: &str| pg.psql(DB, &format!("SHOW {what}")).trim().to_owned();
    let roles = pg.psql(
        DB,
        "SELECT string_agg(r.rolname || ': ' || array_to_string(s.setconfig, ', '), '; ' ORDER BY r.rolname)
         FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole",
    );
    let setup = json!({
        "postgres_version": show("server_version"),
        "max_connections": show("max_connections").parse::<u32>().ok(),
        "superuser_reserved_connections": show("superuser_reserved_connections").parse::<u32>().ok(),
        "fsync": show("fsync"),
        "role_settings": roles.trim(),
        "host_pool_size": 64,
        "client_timeout_s": client::CLIENT_TIMEOUT.as_secs(),
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "listen": "127.0.0.1",
        "pooler": cli.pooler.then(|| format!("PgBouncer {}", testkit::PGBOUNCER_VERSION)),
    });
    let pooler = cli.pooler.then(|| {
        eprintln!("pizza-chaos: starting PgBouncer in front of PostgreSQL");
        PgBouncer::start(&pg, &[])
    });
    let env = Env {
        menu: Arc::new(Menu::read(&admin_url)?),
        admin_url,
        pg,
        pooler,
    };
    eprintln!("pizza-chaos: starting spin-host");
    let (host, app) = env.serve();
    eprintln!("pizza-chaos: serving on {}", app.base_url);

    let mut finished = Vec::new();
    if selected("postgres-killed") {
        finished.push(guarded("postgres-killed", || {
            scenario::crash::run(&env, &app)
        }));
    }
    if selected("table-locked") {
        finished.push(guarded("table-locked", || scenario::lock::run(&env, &app)));
    }
    if selected("pool-exhausted") {
        finished.push(guarded("pool-exhausted", || {
            scenario::pool::run(&env, &app)
        }));
    }
    let mut host_logs = Vec::new();
    let last_host = if selected("host-sigterm") {
        let mut next = None;
        let result = guarded("host-sigterm", || {
            let (f, h, a) = scenario::sigterm::run(&env, host, &app)?;
            next = Some((h, a));
            Ok(f)
        });
        finished.push(result);
        next.map(|(h, _)| h)
    } else {
        Some(host)
    };
    for f in &finished {
        host_logs.extend(f.host_log.clone());
    }
    if let Some(h) = &last_host {
        host_logs.push(h.output());
    }
    drop(last_host);

    // Every request, one JSON object per line, and the hosts' output.
    let requests = out_dir.join(format!("{started_at}-requests.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&requests)?);
    for f in &finished {
        for (retry, shot) in f
            .shots
            .iter()
            .map(|s| (false, s))
            .chain(f.retries.iter().map(|s| (true, s)))
        {
            let mut line = serde_json::to_value(shot)?;
            line["scenario"] = json!(f.report.name);
            line["retry"] = json!(retry);
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    let host_log = out_dir.join(format!("{started_at}-host.log"));
    std::fs::write(&host_log, host_logs.join("\n--- next host ---\n"))?;

    let scenarios: Vec<ScenarioReport> = finished.into_iter().map(|f| f.report).collect();
    let passed = scenarios.iter().all(|s| s.passed);
    let report = Report {
        started_at: started_at.clone(),
        wall_time_s: report::round1(wall.elapsed().as_secs_f64()),
        passed,
        setup,
        scenarios,
    };
    let json_path = out_dir.join(format!("{started_at}.json"));
    report::write_json(&report, &json_path)?;
    println!(
        "chaos run {started_at}: PostgreSQL {} (max_connections {}){}, {} s",
        report.setup["postgres_version"].as_str().unwrap_or("?"),
        report.setup["max_connections"],
        report.setup["pooler"]
            .as_str()
            .map(|p| format!(" behind {p}"))
            .unwrap_or_default(),
        report.wall_time_s
    );
    for s in &report.scenarios {
        print!("{}", s.text());
    }
    let failed = report.scenarios.iter().filter(|s| !s.passed).count();
    println!(
        "{}: {} of {} scenarios passed",
        if passed { "PASS" } else { "FAIL" },
        report.scenarios.len() - failed,
        report.scenarios.len()
    );
    println!(
        "report: {}\nrequests: {}\nhost log: {}",
        json_path.display(),
        requests.display(),
        host_log.display()
    );
    Ok(passed)
}
