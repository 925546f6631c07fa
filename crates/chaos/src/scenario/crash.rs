//! Scenario 1: PostgreSQL killed with SIGKILL under order load, twice, and
//! started again on the same data directory and port. The app is never
//! restarted: it must answer 503 (JSON, `Retry-After`) within a second while
//! the database is gone, place orders again within seconds of its return,
//! and nothing it acknowledged may be lost.

use super::flag_other_than_201_or_503;
use crate::client::{Kind, Shot, now_ms};
use crate::ledger;
use crate::load::{self, Recorder, Workers};
use crate::report::{Figures, ScenarioReport, evidence, flag, latency, max_latency, round1};
use crate::{Env, Finished};
use pizza_e2e::TestApp;
use serde_json::json;
use std::time::Duration;

/// Client threads placing orders, one member each.
const THREADS: usize = 6;
/// Kills (and restarts) of PostgreSQL.
const KILLS: usize = 2;
/// Load before the first kill.
const WARM_UP: Duration = Duration::from_secs(4);
/// How long the database stays down after each kill.
const DOWN: Duration = Duration::from_secs(3);
/// Load after each recovery.
const AFTER: Duration = Duration::from_secs(4);
/// The longest a 503, or any answer while the database is down, may take.
const OUTAGE_BOUND_MS: f64 = 1000.0;
/// The longest the app may take to place an order again once the database is back.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// One kill: instants on the run's clock.
struct Kill {
    killed: f64,
    up: f64,
    restart_ms: f64,
    recovered: Option<f64>,
}

/// Runs the scenario against `app` (served by the env's database).
pub fn run(env: &Env, app: &TestApp) -> anyhow::Result<Finished> {
    let members = load::members(app, "chaoskill", THREADS);
    let jobs: Vec<_> = members.iter().map(|m| (Kind::Order, m.clone())).collect();
    let recorder = Recorder::default();
    let workers = Workers::start(&app.base_url, &jobs, &env.menu, "kill", &recorder, false);
    std::thread::sleep(WARM_UP);
    let mut kills = Vec::new();
    for round in 1..=KILLS {
        eprintln!("pizza-chaos: postgres-killed: SIGKILL {round}/{KILLS}");
        let killed = now_ms();
        env.pg.kill9();
        std::thread::sleep(DOWN);
        let restart = now_ms();
        env.pg.restart();
        let up = now_ms();
        let recovered = load::wait_for(&recorder, RECOVERY_BOUND * 3, |s| {
            s.status() == Some(201) && s.start_ms >= up
        });
        eprintln!(
            "pizza-chaos: postgres-killed: restarted in {:.0} ms, orders again after {}",
            up - restart,
            recovered.map_or("never".to_owned(), |r| format!("{:.0} ms", r - up))
        );
        kills.push(Kill {
            killed,
            up,
            restart_ms: up - restart,
            recovered,
        });
        std::thread::sleep(AFTER);
    }
    workers.stop();
    let shots = recorder.snapshot();

    let mut failures = Vec::new();
    let in_outage = |s: &Shot| {
        kills
            .iter()
            .any(|k| s.start_ms <= k.up && s.end_ms() >= k.killed)
    };
    flag(
        &mut failures,
        "requests without an answer (the host was never stopped)",
        shots.iter().filter(|s| s.transport_failed()),
    );
    flag_other_than_201_or_503(&mut failures, &shots);
    flag(
        &mut failures,
        "503s without JSON or Retry-After",
        shots
            .iter()
            .filter(|s| s.status() == Some(503) && !s.proper_503()),
    );
    let unavailable: Vec<&Shot> = shots.iter().filter(|s| s.status() == Some(503)).collect();
    let outage: Vec<&Shot> = shots.iter().filter(|s| in_outage(s)).collect();
    let hangs: Vec<&Shot> = shots
        .iter()
        .filter(|s| {
            s.status().is_none()
                || (s.status() == Some(503) && s.latency_ms > OUTAGE_BOUND_MS)
                || (in_outage(s) && s.latency_ms > OUTAGE_BOUND_MS)
        })
        .collect();
    if !hangs.is_empty() {
        failures.push(format!(
            "{} requests hung (over {OUTAGE_BOUND_MS} ms while the database was down, a slow 503, or no answer): {}",
            hangs.len(),
            evidence(hangs.iter().copied())
        ));
    }
    for (i, k) in kills.iter().enumerate() {
        match k.recovered {
            Some(r) if r - k.up <= RECOVERY_BOUND.as_secs_f64() * 1000.0 => {}
            Some(r) => failures.push(format!(
                "kill {}: first order {:.0} ms after the restart (bound {RECOVERY_BOUND:?})",
                i + 1,
                r - k.up
            )),
            None => failures.push(format!(
                "kill {}: no order placed within {:?} of the restart",
                i + 1,
                RECOVERY_BOUND * 3
            )),
        }
    }

    let (ledger, retries) = ledger::settle(&env.admin_url, &app.base_url, &members, &shots)?;
    failures.extend(ledger.failures());

    let mut figures = Figures::of_orders(THREADS, &shots, &ledger);
    figures.add("latency_503", latency(unavailable.iter().copied()));
    figures.add(
        "max_503_latency_ms",
        round1(max_latency(unavailable.iter().copied())),
    );
    figures.add("requests_during_outages", outage.len());
    figures.add(
        "max_latency_during_outages_ms",
        round1(max_latency(outage.iter().copied())),
    );
    figures.add("hangs", hangs.len());
    figures.add(
        "kills",
        kills
            .iter()
            .map(|k| {
                json!({
                    "down_ms": round1(k.up - k.killed),
                    "pg_restart_ms": round1(k.restart_ms),
                    "recovery_after_restart_ms": k.recovered.map(|r| round1(r - k.up)),
                    "recovery_after_kill_ms": k.recovered.map(|r| round1(r - k.killed)),
                })
            })
            .collect::<Vec<_>>(),
    );
    figures.add("lost", ledger.lost.len());
    figures.ledger(&ledger);
    let report = ScenarioReport::new(
        "postgres-killed",
        "orders under load while PostgreSQL is SIGKILLed and restarted twice",
        failures,
        figures,
    );
    Ok(Finished::new(report, shots, retries))
}
