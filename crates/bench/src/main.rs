//! `pizza-bench` (`make bench`): replays the real pizza place against the app
//! and measures, in the same run, what the database itself can do.
//!
//! One run: a throw-away PostgreSQL (migrated and seeded), `spin-host`
//! serving the real `spin.toml` (cold start measured without and with the
//! compile cache), members registered and logged in up front, then menu
//! 200, menu 304, order rush and login storm in closed loops, open loops, and
//! a population of 1,000 users with think times; the same again with
//! spin-host exporting OpenTelemetry (`--otel`) and with Spin when given; pgbench running the order endpoint's own statement at the same
//! concurrencies; the goals; and the report (stdout table, JSON, PNG). Exits
//! non-zero if any request got an unexpected answer.
//!
//! `--profile` instead profiles `spin-host` with perf under the order rush and
//! the menu browse and draws flame graphs (`make profile`).

mod bench;
mod chart;
mod client;
mod data;
mod db;
mod folded;
mod goals;
mod host;
mod load;
mod machine;
mod members;
mod otlp_sink;
mod perf;
mod pgbench;
mod plan;
mod profile;
mod report;
mod rng;
mod runtime;
mod scenario;
mod seed;
mod suite;
mod table;

use clap::Parser;
use std::path::PathBuf;

/// Command line.
#[derive(Parser)]
#[command(about = "Benchmarks the pizza app against the database's own ceiling")]
struct Cli {
    /// The short run: fewer seconds per level.
    #[arg(long, conflicts_with = "smoke")]
    quick: bool,
    /// A few requests per scenario, to keep the benchmark working (`make test`); writes no results.
    #[arg(long)]
    smoke: bool,
    /// Where the JSON, PNG and flame graphs go (relative to the workspace root).
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,
    /// Open-loop rate in requests per second (default: half the scenario's best closed-loop throughput).
    #[arg(long)]
    open_rate: Option<f64>,
    /// A Spin binary: run every scenario against `spin up` too, after spin-host.
    #[arg(long, conflicts_with = "profile")]
    spin: Option<PathBuf>,
    /// Run every scenario against spin-host again with OpenTelemetry exporting
    /// on (`spin-host+otlp`), to an OTLP sink of the bench's own.
    #[arg(long, conflicts_with = "profile")]
    otel: bool,
    /// Profile spin-host with perf under the order rush and the menu browse
    /// instead of benchmarking; writes flame graphs.
    #[arg(long, conflicts_with = "smoke")]
    profile: bool,
    /// How perf records stacks (`--profile`): `dwarf` unwinds spin-host's own
    /// frames completely and shows each wasm function as a leaf without its
    /// callers; `fp` follows the wasm call chains but loses spin-host's frames
    /// (a release build keeps no frame pointers).
    #[arg(long, default_value = "dwarf,16384")]
    call_graph: String,
    /// Where inferno-collapse-perf and inferno-flamegraph are (`--profile`).
    #[arg(long, default_value = "target/tools/bin")]
    inferno_dir: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let outcome = if cli.profile {
        profile::run(&cli).map(|()| 0)
    } else {
        bench::run(&cli)
    };
    match outcome {
        Ok(0) => {}
        Ok(_) => std::process::exit(1),
        Err(e) => {
            eprintln!("pizza-bench: {e:#}");
            eprintln!("errors: run aborted");
            std::process::exit(2);
        }
    }
}
