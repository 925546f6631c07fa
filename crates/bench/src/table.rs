//! The report as text on stdout: the run, each runtime's scenarios, the
//! runtimes side by side, what the OTLP sink received, the database ceiling
//! and the goals.

use crate::otlp_sink::SinkReport;
use crate::report::{Latency, Report, Run, RuntimeRuns};
use crate::runtime::OURS;
use std::fmt::Write as _;
use std::path::Path;

/// Milliseconds with three significant digits or so.
fn f(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// The p50, p95, p99, p99.9 and max columns of a row.
fn latency_cells(l: &Latency) -> String {
    format!(
        "{:>8} {:>8} {:>8} {:>8} {:>8}",
        f(l.p50_ms),
        f(l.p95_ms),
        f(l.p99_ms),
        f(l.p999_ms),
        f(l.max_ms)
    )
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn load(run: &Run) -> String {
    match (run.mode, run.concurrency, run.rate_per_s) {
        ("users", Some(u), _) => format!("{u} users"),
        (_, Some(c), _) => format!("c={c}"),
        (_, None, Some(rate)) => format!("{rate:.0}/s"),
        _ => String::new(),
    }
}

/// The human-readable report.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    header(&mut s, r);
    for rt in &r.runtimes {
        runtime(&mut s, rt);
    }
    if r.runtimes.len() > 1 {
        comparison(&mut s, &r.runtimes);
    }
    if let Some(sink) = &r.otlp_sink {
        otlp_sink(&mut s, sink);
    }
    ceiling(&mut s, r);
    goals(&mut s, r);
    let _ = writeln!(s, "\nwall time: {:.1} s", r.wall_time_s);
    for e in &r.error_samples {
        let _ = writeln!(s, "  error: {e}");
    }
    let _ = writeln!(s, "errors: {}", r.errors);
    s
}

fn header(s: &mut String, r: &Report) {
    let commit = match (&r.source.commit, r.source.dirty) {
        (Some(c), Some(true)) => format!("{} (dirty tree)", &c[..c.len().min(12)]),
        (Some(c), _) => c[..c.len().min(12)].to_owned(),
        _ => "unknown commit".to_owned(),
    };
    let m = &r.machine;
    let _ = writeln!(
        s,
        "pizza-bench {} run {} at {commit} on {} CPUs ({}), {} MiB",
        r.mode,
        r.started_at,
        m.cpus,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.memory_mib.map_or("?".to_owned(), |v| v.to_string())
    );
    let _ = writeln!(
        s,
        "replaying {} orders of the data set: {:.2} lines and {:.2} pizzas per order, up to {} lines",
        r.order_mix.orders,
        r.order_mix.lines_per_order,
        r.order_mix.pizzas_per_order,
        r.order_mix.max_lines
    );
    let _ = writeln!(
        s,
        "members: {} registered and logged in through the app in {:.1} s",
        r.members.count, r.members.setup_s
    );
    let _ = writeln!(s, "\nwasm components");
    let mut seen = std::collections::BTreeMap::new();
    for c in &r.components {
        seen.entry(c.source.clone())
            .or_insert((c.bytes, Vec::new()))
            .1
            .push(c.component.clone());
    }
    for (source, (bytes, ids)) in &seen {
        let name = Path::new(source)
            .file_name()
            .map_or(source.clone(), |n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            s,
            "  {name:<22} {:>8.1} KiB  {}",
            *bytes as f64 / 1024.0,
            ids.join(", ")
        );
    }
    let total: u64 = seen.values().map(|(b, _)| b).sum();
    let _ = writeln!(
        s,
        "  {:<22} {:>8.1} KiB",
        "total (distinct files)",
        total as f64 / 1024.0
    );
}

fn runtime(s: &mut String, rt: &RuntimeRuns) {
    let env: String = rt
        .runtime
        .env
        .iter()
        .map(|(k, v)| format!(" {k}={v}"))
        .collect();
    let _ = writeln!(
        s,
        "\n== {} ({}, {}){env}",
        rt.runtime.name,
        rt.runtime.version,
        rt.runtime.binary.display()
    );
    let c = &rt.cold_start;
    let cold = match c.without_cache_ms {
        Some(ms) => format!("{ms:.0} ms without compile cache, "),
        None => format!("first start {:.0} ms, ", c.first_start_ms),
    };
    let _ = writeln!(
        s,
        "cold start (spawn to first 200 on /api/menu/): {cold}{:.0} ms with cache",
        c.with_cache_ms
    );
    let _ = writeln!(
        s,
        "{:<12} {:<6} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8}",
        "scenario",
        "mode",
        "load",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "errors",
        "RSS MiB"
    );
    for run in &rt.runs {
        let _ = writeln!(
            s,
            "{:<12} {:<6} {:>10} {:>9.1} {} {:>6} {:>8}",
            run.scenario,
            run.mode,
            load(run),
            run.throughput_per_s,
            latency_cells(&run.latency),
            run.errors,
            mib(run.peak_rss_kib)
        );
        if run.endpoints.len() > 1 {
            for e in &run.endpoints {
                let _ = writeln!(
                    s,
                    "  {:<37} {:>9.1} {} {:>6}",
                    e.label,
                    e.throughput_per_s,
                    latency_cells(&e.latency),
                    e.errors
                );
            }
        }
    }
    if let Some(run) = rt.population()
        && let Some(p) = &run.population
    {
        let l = &run.latency;
        let verdict = l.p95_ms < 100.0 && p.orders_per_s > 100.0;
        let _ = writeln!(
            s,
            "{} users (think time exponential, mean {:.1} s): p50 {} ms, p95 {} ms, p99 {} ms; \
             {:.1} orders/s (offered {:.1}); {} errors; p95 < 100 ms with > 100 orders/s: {}",
            p.users,
            p.think_mean_s,
            f(l.p50_ms),
            f(l.p95_ms),
            f(l.p99_ms),
            p.orders_per_s,
            p.offered_orders_per_s,
            run.errors,
            if verdict { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        s,
        "peak RSS over all runs (VmHWM, process group): {} MiB",
        mib(rt.peak_rss_kib)
    );
}

fn comparison(s: &mut String, runtimes: &[RuntimeRuns]) {
    let _ = writeln!(s, "\nruntimes compared (same database, same load)");
    let _ = writeln!(
        s,
        "{:<12} {:<6} {:>10} {:<14} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "scenario", "mode", "load", "runtime", "req/s", "p50 ms", "p95 ms", "p99 ms", "RSS MiB"
    );
    let base = &runtimes[0];
    for (i, run) in base.runs.iter().enumerate() {
        for rt in runtimes {
            let Some(other) = rt.runs.get(i) else {
                continue;
            };
            let first = std::ptr::eq(rt, base);
            let l = &other.latency;
            let _ = writeln!(
                s,
                "{:<12} {:<6} {:>10} {:<14} {:>9.1} {:>8} {:>8} {:>8} {:>8}",
                if first { run.scenario.as_str() } else { "" },
                if first { run.mode } else { "" },
                if first { load(run) } else { String::new() },
                rt.runtime.name,
                other.throughput_per_s,
                f(l.p50_ms),
                f(l.p95_ms),
                f(l.p99_ms),
                mib(other.peak_rss_kib)
            );
        }
    }
    for rt in runtimes {
        let _ = writeln!(
            s,
            "{:<14} peak RSS {} MiB, cold start with cache {:.0} ms",
            rt.runtime.name,
            mib(rt.peak_rss_kib),
            rt.cold_start.with_cache_ms
        );
    }
}

fn otlp_sink(s: &mut String, sink: &SinkReport) {
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    let signals: Vec<String> = sink
        .signals()
        .map(|(name, r)| format!("{name} {} ({:.1} KiB)", r.requests, kib(r.bytes)))
        .collect();
    let _ = write!(
        s,
        "\nOTLP sink ({}): {} exports, {:.1} KiB: {}",
        sink.endpoint,
        sink.requests(),
        kib(sink.bytes()),
        signals.join(", ")
    );
    if sink.other_requests > 0 {
        let _ = write!(s, "; {} other requests (404)", sink.other_requests);
    }
    let _ = writeln!(s);
}

fn ceiling(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "\ndatabase ceiling: pgbench running the order endpoint's statement ({} captured parameter sets), \
         after all app runs; clients at most the order role's connection limit (the app's pool holds as many)",
        r.order_statement.captured
    );
    let mut head = format!(
        "{:>6} {:>7} {:>11} {:>8} {:>8} {:>8} {:>7}",
        "conc", "clients", "pgbench tps", "p50 ms", "p95 ms", "p99 ms", "failed"
    );
    for rt in &r.runtimes {
        let _ = write!(
            head,
            " {:>23} {:>7}",
            format!("{} orders/s", rt.runtime.name),
            "share"
        );
    }
    let _ = writeln!(s, "{head}");
    for c in &r.ceiling {
        let _ = write!(
            s,
            "{:>6} {:>7} {:>11.1} {:>8} {:>8} {:>8} {:>7}",
            c.concurrency,
            c.clients,
            c.tps,
            f(c.latency.p50_ms),
            f(c.latency.p95_ms),
            f(c.latency.p99_ms),
            c.failed
        );
        for a in &c.app {
            let _ = write!(
                s,
                " {:>23.1} {:>6.1}%",
                a.orders_per_s,
                a.to_ceiling * 100.0
            );
        }
        let _ = writeln!(s);
    }
}

fn goals(s: &mut String, r: &Report) {
    let _ = writeln!(s, "\ngoals ({})", OURS);
    for g in &r.goals {
        let verdict = match g.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "n/a",
        };
        let _ = writeln!(
            s,
            "  [{verdict:^7}] {}: {} (target {})",
            g.goal, g.measured, g.target
        );
    }
}
