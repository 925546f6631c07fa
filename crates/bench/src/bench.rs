//! One benchmark run: the database, the members, every runtime's scenarios
//! (with the OTLP sink the exporting one sends to), pgbench, the goals and the
//! report.

use crate::client::{self, send_expect};
use crate::db::Database;
use crate::host::{self, Host};
use crate::machine::{Machine, Source};
use crate::otlp_sink::Sink;
use crate::plan::{Mode, Plan};
use crate::report::{Ceiling, Members, Report};
use crate::runtime::Runtime;
use crate::scenario::OrderRush;
use crate::suite::{self, Load};
use crate::{Cli, chart, data, goals, members, pgbench, report, table};
use std::path::PathBuf;
use std::time::Instant;

/// Runs the benchmark `cli` asks for; returns the error count.
pub fn run(cli: &Cli) -> anyhow::Result<u64> {
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
    let ours = Runtime::ours(testkit::host_bin())?;
    let sink = cli.otel.then(Sink::start).transpose()?;
    let mut runtimes = vec![ours.clone()];
    if let Some(sink) = &sink {
        runtimes.push(ours.exporting(&sink.endpoint));
    }
    if let Some(spin) = &cli.spin {
        runtimes.push(Runtime::spin(spin)?);
    }

    let (manifest, components) = host::bench_manifest(&root, &work)?;
    eprintln!("pizza-bench: starting PostgreSQL, migrating, seeding");
    let db = Database::start(&root, &data_dir)?;
    let (orders, order_mix) = data::order_bodies(&data_dir, &db.branches())?;
    db.log_order_statements(true);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut report = rt.block_on(async {
        let client = client::client();
        let vars = db.variables();

        // spin-host's first start, with an empty compile cache: members, and
        // orders whose SQL PostgreSQL logs.
        if plan.cold_without_cache {
            let _ = std::fs::remove_dir_all(host::cache_dir(&manifest));
        }
        let log = work.join("host-start.log");
        let mut host = Host::spawn(&ours, &manifest, &vars, &log)?;
        let first = host.first_200(&client, "/api/menu/").await?;
        eprintln!(
            "pizza-bench: first start served in {first:?}; registering {} members",
            plan.members
        );
        let setup = Instant::now();
        let members = members::register(&client, &host.base_url, &started_at, plan.members).await?;
        let members_report = Members {
            count: members.len(),
            setup_s: setup.elapsed().as_secs_f64(),
        };
        eprintln!(
            "pizza-bench: {} members in {:.1} s",
            members.len(),
            members_report.setup_s
        );
        let capture = OrderRush::new(&host.base_url, members.clone(), orders.clone());
        for _ in 0..plan.captured_orders {
            send_expect(&client, &capture.next_order()).await?;
        }
        host.stop();
        db.log_order_statements(false);
        let statement = pgbench::capture(&db.server_log())?;
        let script_args = pgbench::scripts(&statement, &work.join("pgbench"))?;
        let mark = db.mark();

        let mut load = Load {
            plan: &plan,
            members: &members,
            orders: &orders,
            open_rates: cli.open_rate.map(|rate| {
                suite::OPEN_SCENARIOS
                    .iter()
                    .map(|s| ((*s).to_owned(), rate))
                    .collect()
            }),
            manifest: &manifest,
            variables: &vars,
            log_dir: &work,
        };
        let mut measured = Vec::new();
        let mut samples = Vec::new();
        for (i, runtime) in runtimes.iter().enumerate() {
            let (first_start, without_cache) = if i == 0 {
                (first, plan.cold_without_cache.then_some(first))
            } else {
                // Its own first start: Spin's fills Spin's compile cache if
                // need be; spin-host+otlp's finds the cache spin-host wrote.
                let log = work.join(format!("{}-start.log", runtime.name));
                let mut host = Host::spawn(runtime, &manifest, &vars, &log)?;
                let first = host.first_200(&client, "/api/menu/").await?;
                host.stop();
                eprintln!(
                    "pizza-bench: {} first start served in {first:?}",
                    runtime.name
                );
                (first, None)
            };
            db.reset(&mark);
            let (runs, errors) = suite::measure(runtime, &load, first_start, without_cache).await?;
            load.open_rates
                .get_or_insert_with(|| suite::open_rates(&runs));
            samples.extend(errors);
            measured.push(runs);
        }
        let otlp_sink = sink.as_ref().map(Sink::report);

        let mut ceiling = Vec::new();
        let login_db = db.order_login();
        let limit = db.order_connection_limit().unwrap_or(usize::MAX);
        for &c in &plan.levels {
            let clients = c.min(limit);
            eprintln!(
                "pizza-bench: pgbench c={c} ({clients} clients) for {:?}",
                plan.level_time
            );
            let pg = tokio::task::block_in_place(|| {
                let dir = work.join("pgbench");
                pgbench::run(&script_args, &login_db, (c, clients), plan.level_time, &dir)
            })?;
            ceiling.push(Ceiling::new(&pg, &measured));
        }

        let errors = measured
            .iter()
            .flat_map(|rt| &rt.runs)
            .map(|r| r.errors)
            .sum::<u64>()
            + ceiling.iter().map(|c| c.failed).sum::<u64>();
        samples.truncate(10);
        anyhow::Ok(Report {
            started_at: started_at.clone(),
            mode: mode.name().to_owned(),
            source: Source::of(&root),
            machine: Machine::this(),
            components,
            order_mix,
            order_statement: statement,
            members: members_report,
            goals: goals::evaluate(&measured, &ceiling),
            runtimes: measured,
            otlp_sink,
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
        chart::write_chart(&report, &png)?;
        print!("{}", table::table(&report));
        println!("results: {}, {}", json.display(), png.display());
    } else {
        print!("{}", table::table(&report));
    }
    Ok(report.errors)
}
