//! Scenario 2: another session holds `orders` in ACCESS EXCLUSIVE mode for
//! 30 s while members place orders and read their history. The roles'
//! `lock_timeout` (1 s) and `statement_timeout` (5 s) must turn every such
//! request into a 503 (JSON, `Retry-After`) long before the lock is released;
//! none may hang past 6 s, and afterwards the service carries on by itself.

use crate::client::{Kind, Shot, now_ms};
use crate::load::{self, Recorder, Workers};
use crate::report::{
    Figures, ScenarioReport, by_status, evidence, flag, latency, max_latency, round1,
};
use crate::{Env, Finished, ledger};
use pizza_e2e::TestApp;
use std::time::Duration;

/// Members; each has one thread placing orders and one reading history.
const MEMBERS: usize = 4;
/// How long the lock is held.
const HOLD: Duration = Duration::from_secs(30);
/// Load before the lock and after its release.
const AROUND: Duration = Duration::from_secs(2);
/// The longest any request may take (`statement_timeout` plus slack).
const HANG_BOUND_MS: f64 = 6000.0;
/// The longest the service may take to answer successfully after the release.
const RECOVERY_BOUND_MS: f64 = 5000.0;

/// Runs the scenario against `app`.
pub fn run(env: &Env, app: &TestApp) -> anyhow::Result<Finished> {
    let members = load::members(app, "chaoslock", MEMBERS);
    let jobs: Vec<_> = members
        .iter()
        .flat_map(|m| [(Kind::Order, m.clone()), (Kind::MyOrder, m.clone())])
        .collect();
    let recorder = Recorder::default();
    let workers = Workers::start(&app.base_url, &jobs, &env.menu, "lock", &recorder, false);
    std::thread::sleep(AROUND);

    eprintln!("pizza-chaos: table-locked: LOCK TABLE orders for {HOLD:?}");
    let mut holder = postgres::Client::connect(&env.admin_url, postgres::NoTls)?;
    let mut tx = holder.transaction()?;
    tx.batch_execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")?;
    let locked = now_ms();
    std::thread::sleep(HOLD);
    // Taken before the ROLLBACK is sent: requests queued behind the lock may be
    // answered before this thread hears back from the server, so only requests
    // over before this instant certainly ran entirely under the lock.
    let released = now_ms();
    tx.rollback()?;
    let recovered = load::wait_for(&recorder, Duration::from_secs(15), |s| {
        matches!(s.status(), Some(200 | 201)) && s.start_ms >= released
    });
    std::thread::sleep(AROUND);
    workers.stop();
    let shots = recorder.snapshot();

    let mut failures = Vec::new();
    let during: Vec<&Shot> = shots
        .iter()
        .filter(|s| s.start_ms >= locked && s.end_ms() <= released)
        .collect();
    flag(
        &mut failures,
        "requests during the lock not answered 503 JSON with Retry-After",
        during.iter().copied().filter(|s| !s.proper_503()),
    );
    let hangs: Vec<&Shot> = shots
        .iter()
        .filter(|s| s.transport_failed() || s.latency_ms > HANG_BOUND_MS)
        .collect();
    if !hangs.is_empty() {
        failures.push(format!(
            "{} requests hung (over {HANG_BOUND_MS} ms or no answer): {}",
            hangs.len(),
            evidence(hangs.iter().copied())
        ));
    }
    flag(
        &mut failures,
        "answers neither 200, 201 nor 503",
        shots
            .iter()
            .filter(|s| matches!(s.status(), Some(c) if ![200, 201, 503].contains(&c))),
    );
    match recovered {
        Some(r) if r - released <= RECOVERY_BOUND_MS => {}
        r => failures.push(format!(
            "no success within {RECOVERY_BOUND_MS} ms of the release (first after {:?} ms)",
            r.map(|r| round1(r - released))
        )),
    }
    if during.is_empty() {
        failures.push("no request was made while the lock was held".to_owned());
    }

    let (ledger, retries) = ledger::settle(&env.admin_url, &app.base_url, &members, &shots)?;
    failures.extend(ledger.failures());

    let of = |kind: Kind| during.iter().copied().filter(move |s| s.kind == kind);
    let mut figures = Figures::default();
    figures.add("client_threads", jobs.len());
    figures.add("lock_held_ms", round1(released - locked));
    figures.add("requests", shots.len());
    figures.add("acknowledged", ledger.acknowledged);
    figures.add("by_status", by_status(&shots));
    figures.add("requests_during_lock", during.len());
    figures.add("orders_during_lock", latency(of(Kind::Order)));
    figures.add("myorder_during_lock", latency(of(Kind::MyOrder)));
    figures.add("by_status_during_lock", by_status(during.iter().copied()));
    figures.add(
        "max_latency_during_lock_ms",
        round1(max_latency(during.iter().copied())),
    );
    figures.add("max_latency_ms", round1(max_latency(&shots)));
    figures.add("hangs", hangs.len());
    figures.add(
        "recovery_after_release_ms",
        recovered.map(|r| round1(r - released)),
    );
    figures.add("lost", ledger.lost.len());
    figures.ledger(&ledger);
    let report = ScenarioReport::new(
        "table-locked",
        "orders and myorder while `orders` is held in ACCESS EXCLUSIVE mode for 30 s",
        failures,
        figures,
    );
    Ok(Finished::new(report, shots, retries))
}
