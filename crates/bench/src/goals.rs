//! The performance goals, measured: each with the value the run got and
//! whether it met the target (or could not tell, when the run did not
//! measure it: a quick run without the level, no Spin given).

use crate::report::{Ceiling, Run, RuntimeRuns};
use crate::runtime::{OURS, SPIN};
use crate::scenario::{MENU_200, MENU_304, ORDER_CREATE, ORDER_RUSH};
use serde::Serialize;

/// The users the seed-scale goals are stated for.
pub const SEED_USERS: usize = 1000;

/// One goal and how the run fared.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    /// What is measured.
    pub goal: String,
    /// The target.
    pub target: String,
    /// What the run measured.
    pub measured: String,
    /// Met, not met, or `None` when not measured.
    pub met: Option<bool>,
}

fn goal(goal: &str, target: &str, measured: String, met: Option<bool>) -> Goal {
    Goal {
        goal: goal.to_owned(),
        target: target.to_owned(),
        measured,
        met,
    }
}

fn not_measured(name: &str, target: &str, why: &str) -> Goal {
    goal(name, target, format!("not measured ({why})"), None)
}

/// The goals for the runtime named `spin-host` (exporting off), against
/// pgbench's `ceiling` and, for memory, the one named `spin` if present.
pub fn evaluate(runtimes: &[RuntimeRuns], ceiling: &[Ceiling]) -> Vec<Goal> {
    let named = |name: &str| runtimes.iter().find(|r| r.runtime.name == name);
    let Some(host) = named(OURS) else {
        return Vec::new();
    };
    let mut goals = Vec::new();
    for c in [8, 32] {
        goals.push(order_share(host, ceiling, c));
    }
    goals.push(
        match host
            .closed(ORDER_RUSH, 32)
            .and_then(|r| r.endpoint(ORDER_CREATE))
        {
            Some(e) => goal(
                "order rush c=32: POST /api/order/ p99",
                "< 50 ms",
                format!("{:.1} ms", e.latency.p99_ms),
                Some(e.latency.p99_ms < 50.0),
            ),
            None => not_measured(
                "order rush c=32: POST /api/order/ p99",
                "< 50 ms",
                "no c=32 level",
            ),
        },
    );
    goals.extend(menu(host));
    goals.extend(seed_scale(host.population()));
    goals.extend(memory(host, named(SPIN)));
    let warm = host.cold_start.with_cache_ms;
    goals.push(goal(
        "cold start with compile cache",
        "< 100 ms",
        format!("{warm:.0} ms"),
        Some(warm < 100.0),
    ));
    goals
}

fn order_share(host: &RuntimeRuns, ceiling: &[Ceiling], c: usize) -> Goal {
    let name = format!("order rush c={c}: POST /api/order/ against pgbench TPS");
    let share = ceiling.iter().find(|x| x.concurrency == c).and_then(|x| {
        Some((
            x.tps,
            x.app.iter().find(|a| a.runtime == host.runtime.name)?,
        ))
    });
    match share {
        Some((tps, app)) => goal(
            &name,
            "≥ 60 %",
            format!(
                "{:.0} % ({:.0} orders/s, pgbench {tps:.0} tps)",
                app.to_ceiling * 100.0,
                app.orders_per_s
            ),
            Some(app.to_ceiling >= 0.6),
        ),
        None => not_measured(&name, "≥ 60 %", "no such level"),
    }
}

fn menu(host: &RuntimeRuns) -> Vec<Goal> {
    let mut goals = Vec::new();
    match host.closed(MENU_200, 32) {
        Some(r) => {
            goals.push(goal(
                "menu 200 c=32: GET /api/menu/ and /types/ throughput",
                "≥ 3,000 req/s",
                format!("{:.0} req/s", r.throughput_per_s),
                Some(r.throughput_per_s >= 3000.0),
            ));
            goals.push(goal(
                "menu 200 c=32: p99",
                "< 10 ms",
                format!("{:.1} ms", r.latency.p99_ms),
                Some(r.latency.p99_ms < 10.0),
            ));
        }
        None => goals.push(not_measured(
            "menu 200 c=32",
            "≥ 3,000 req/s, p99 < 10 ms",
            "no c=32 level",
        )),
    }
    let pairs: Vec<(usize, f64, f64)> = host
        .runs
        .iter()
        .filter(|r| r.mode == "closed" && r.scenario == MENU_200)
        .filter_map(|fresh| {
            let c = fresh.concurrency?;
            let revalidated = host.closed(MENU_304, c)?;
            Some((c, revalidated.latency.p50_ms, fresh.latency.p50_ms))
        })
        .collect();
    let measured = pairs
        .iter()
        .map(|(c, p304, p200)| format!("c={c}: {p304:.2} vs {p200:.2} ms"))
        .collect::<Vec<_>>()
        .join("; ");
    goals.push(goal(
        "menu 304 p50 below menu 200 p50, every level",
        "304 faster",
        measured,
        (!pairs.is_empty()).then(|| pairs.iter().all(|(_, a, b)| a < b)),
    ));
    goals
}

fn seed_scale(run: Option<&Run>) -> Vec<Goal> {
    let name = |what: &str| format!("seed scale ({SEED_USERS} users): {what}");
    let Some((run, pop)) = run.and_then(|r| Some((r, r.population.as_ref()?))) else {
        return vec![not_measured(
            &name("all"),
            "p95 < 100 ms, > 100 orders/s, 0 errors",
            "not run",
        )];
    };
    let full = pop.users >= SEED_USERS;
    let why = format!("{} users only", pop.users);
    let judged = |met: bool| full.then_some(met);
    let with = |value: String| {
        if full {
            value
        } else {
            format!("{value}; {why}")
        }
    };
    vec![
        goal(
            &name("p95"),
            "< 100 ms",
            with(format!("{:.1} ms", run.latency.p95_ms)),
            judged(run.latency.p95_ms < 100.0),
        ),
        goal(
            &name("orders placed"),
            "> 100 orders/s",
            with(format!(
                "{:.1} orders/s (offered {:.1})",
                pop.orders_per_s, pop.offered_orders_per_s
            )),
            judged(pop.orders_per_s > 100.0),
        ),
        goal(
            &name("errors"),
            "0",
            with(run.errors.to_string()),
            judged(run.errors == 0),
        ),
    ]
}

/// The largest peak RSS of the closed-loop runs at 128 users, KiB.
fn rss_at_128(rt: &RuntimeRuns) -> Option<u64> {
    rt.runs
        .iter()
        .filter(|r| r.mode == "closed" && r.concurrency == Some(128))
        .filter_map(|r| r.peak_rss_kib)
        .max()
}

fn memory(host: &RuntimeRuns, spin: Option<&RuntimeRuns>) -> Vec<Goal> {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let host_rss = rss_at_128(host);
    let mut goals = vec![match host_rss {
        Some(kib) => goal(
            "spin-host peak RSS at c=128",
            "< 100 MiB",
            format!("{:.1} MiB", mib(kib)),
            Some(mib(kib) < 100.0),
        ),
        None => not_measured("spin-host peak RSS at c=128", "< 100 MiB", "no c=128 level"),
    }];
    let name = "spin-host peak RSS at c=128 against Spin's";
    goals.push(match (host_rss, spin.map(|s| (s, rss_at_128(s)))) {
        (Some(h), Some((_, Some(s)))) => goal(
            name,
            "≤ 2 × Spin's",
            format!(
                "{:.1} MiB vs {:.1} MiB ({:.2} ×)",
                mib(h),
                mib(s),
                h as f64 / s as f64
            ),
            Some(h <= 2 * s),
        ),
        (_, None) => not_measured(name, "≤ 2 × Spin's", "no SPIN given"),
        _ => not_measured(name, "≤ 2 × Spin's", "no c=128 level"),
    });
    goals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ColdStart;
    use crate::runtime::{OURS_OTLP, Runtime};

    fn runtime(name: &'static str) -> RuntimeRuns {
        RuntimeRuns {
            runtime: Runtime {
                name,
                binary: "target/release/spin-host".into(),
                version: String::new(),
                env: Vec::new(),
            },
            cold_start: ColdStart {
                without_cache_ms: None,
                first_start_ms: 0.0,
                with_cache_ms: 0.0,
            },
            peak_rss_kib: None,
            runs: Vec::new(),
        }
    }

    #[test]
    fn spin_is_found_by_name_not_by_place() {
        let against_spin = |runtimes: &[RuntimeRuns]| {
            evaluate(runtimes, &[])
                .into_iter()
                .find(|g| g.goal.ends_with("against Spin's"))
                .unwrap()
                .measured
        };
        let otlp = [runtime(OURS), runtime(OURS_OTLP)];
        assert_eq!(against_spin(&otlp), "not measured (no SPIN given)");
        let all = [runtime(OURS), runtime(OURS_OTLP), runtime(SPIN)];
        assert_eq!(against_spin(&all), "not measured (no c=128 level)");
    }
}
