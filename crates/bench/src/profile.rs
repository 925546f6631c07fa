//! `make profile`: where `spin-host` spends its CPU under the order rush and
//! the menu browse. perf samples the host while one closed-loop level of each
//! runs (32 users); the host runs with `SPIN_HOST_PROFILER=perfmap`, so
//! wasm it compiles at run time is named in `/tmp/perf-<pid>.map` (wasm it
//! loads from its compile cache is named by the cached file's symbols);
//! inferno draws `bench/results/<ts>-profile-<orders|menu>.svg`; the top
//! self-time frames go to stdout and `<ts>-profile.json`.

use crate::folded::{self, Frame};
use crate::host::{self, Host};
use crate::machine::{Machine, Source};
use crate::perf::{self, Recording};
use crate::report::{Latency, write_json};
use crate::runtime::Runtime;
use crate::scenario::{MenuBrowse, OrderRush, Scenario};
use crate::{Cli, client, data, db, load, members};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Virtual users while profiling.
const USERS: usize = 32;
/// Members registered for the order rush.
const MEMBERS: usize = 32;
/// How long each scenario is sampled.
const SAMPLED: Duration = Duration::from_secs(8);
/// Load before sampling, so pools and caches are warm.
const WARM_UP: Duration = Duration::from_secs(2);
/// Frames listed per profile.
const TOP: usize = 15;

/// One profiled scenario.
#[derive(Debug, Clone, Serialize)]
struct Profile {
    scenario: &'static str,
    users: usize,
    sampled_s: f64,
    throughput_per_s: f64,
    latency: Latency,
    errors: u64,
    cpu_ms: f64,
    svg: String,
    folded: String,
    top_self: Vec<Frame>,
}

/// What `<ts>-profile.json` holds.
#[derive(Debug, Clone, Serialize)]
struct ProfileReport {
    started_at: String,
    source: Source,
    machine: Machine,
    runtime: Runtime,
    perf: String,
    perf_record: String,
    profiles: Vec<Profile>,
}

/// Profiles spin-host as described above.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let perf_version = perf::version("perf")
        .ok_or_else(|| anyhow::anyhow!("perf not found: sudo apt-get install linux-perf"))?;
    let root = testkit::workspace_root();
    let tools = root.join(&cli.inferno_dir);
    for tool in ["inferno-collapse-perf", "inferno-flamegraph"] {
        anyhow::ensure!(
            tools.join(tool).exists(),
            "{tool} not in {} (make profile installs it)",
            tools.display()
        );
    }
    let started_at = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let work = root.join("target/bench");
    let out_dir = root.join(&cli.out_dir);
    std::fs::create_dir_all(&out_dir)?;
    let data_dir = std::env::var_os("PIZZA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("data/pizza-sales"));
    let runtime = Runtime::ours(testkit::host_bin())?.with_env("SPIN_HOST_PROFILER", "perfmap");
    let (manifest, _) = host::bench_manifest(&root, &work)?;
    eprintln!("pizza-bench: starting PostgreSQL, migrating, seeding");
    let db = db::Database::start(&root, &data_dir)?;
    let (orders, _) = data::order_bodies(&data_dir, &db.branches())?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let profiles = rt.block_on(async {
        let client = client::client();
        let log = work.join("profile-host.log");
        let mut host = Host::spawn(&runtime, &manifest, &db.variables(), &log)?;
        host.first_200(&client, "/api/menu/").await?;
        let members = members::register(&client, &host.base_url, &started_at, MEMBERS).await?;
        let base = host.base_url.clone();
        let scenarios: [(&str, Arc<dyn Scenario>); 2] = [
            ("orders", Arc::new(OrderRush::new(&base, members, orders))),
            ("menu", Arc::new(MenuBrowse::fresh(&base))),
        ];
        let mut profiles = Vec::new();
        for (name, scenario) in scenarios {
            load::closed_loop(&client, scenario.clone(), USERS, WARM_UP).await;
            eprintln!(
                "pizza-bench: perf record of spin-host under {} c={USERS} for {SAMPLED:?}",
                scenario.name()
            );
            let data = work.join(format!("perf-{name}.data"));
            let recording = Recording::start(host.pid(), &cli.call_graph, &data)?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let stats = load::closed_loop(&client, scenario.clone(), USERS, SAMPLED).await;
            let data = recording.finish()?;
            let svg = out_dir.join(format!("{started_at}-profile-{name}.svg"));
            let folded = work.join(format!("perf-{name}.folded"));
            let title = format!(
                "spin-host under {} c={USERS}, {started_at}",
                scenario.name()
            );
            let stacks = tokio::task::block_in_place(|| {
                perf::flame_graph(&tools, &data, &folded, &svg, &title)
            })?;
            let total = stats.total();
            let secs = stats.elapsed.as_secs_f64();
            profiles.push(Profile {
                scenario: scenario.name(),
                users: USERS,
                sampled_s: secs,
                throughput_per_s: total.hist.len() as f64 / secs,
                latency: Latency::of(&total.hist),
                errors: total.errors,
                cpu_ms: folded::total_ms(&stacks),
                svg: relative(&root, &svg),
                folded: relative(&root, &folded),
                top_self: folded::top_self(&stacks, TOP),
            });
        }
        let _ = std::fs::remove_file(format!("/tmp/perf-{}.map", host.pid()));
        host.stop();
        anyhow::Ok(profiles)
    })?;
    drop(db);

    let report = ProfileReport {
        started_at: started_at.clone(),
        source: Source::of(&root),
        machine: Machine::this(),
        runtime,
        perf: perf_version,
        perf_record: perf::record_command(&cli.call_graph),
        profiles,
    };
    let json = out_dir.join(format!("{started_at}-profile.json"));
    write_json(&report, &json)?;
    for p in &report.profiles {
        print_profile(p);
    }
    println!("results: {}", json.display());
    let errors: u64 = report.profiles.iter().map(|p| p.errors).sum();
    anyhow::ensure!(errors == 0, "{errors} requests failed while profiling");
    Ok(())
}

fn print_profile(p: &Profile) {
    println!(
        "\n{} c={}: {:.0} req/s under perf, p50 {:.2} ms, p95 {:.2} ms, {} errors; \
         {:.0} ms of spin-host CPU in {:.1} s sampled; {}",
        p.scenario,
        p.users,
        p.throughput_per_s,
        p.latency.p50_ms,
        p.latency.p95_ms,
        p.errors,
        p.cpu_ms,
        p.sampled_s,
        p.svg
    );
    println!("  top {TOP} frames by self time (_[k]: kernel):");
    for f in &p.top_self {
        println!("  {:>6.2}% {:>8.0} ms  {}", f.percent, f.cpu_ms, f.frame);
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
