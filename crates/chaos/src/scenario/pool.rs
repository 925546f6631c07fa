//! Scenario 3: more concurrent requests than the host's pool has connections
//! (64 per connection string, no wait timeout) against a PostgreSQL with
//! `make up`'s settings (`max_connections` 274, 64 per service role). Three waves of 200
//! requests released together: history reads; history reads and orders
//! mixed; history reads while `orders` is locked, so that every request holds
//! its pooled connection for the whole `lock_timeout` and the rest queue for
//! the pool. Every request must be answered (200/201 or a proper 503) within
//! the client's 10 s.

use crate::client::{self, CLIENT_TIMEOUT, Kind, Member, Shot};
use crate::load;
use crate::report::{Figures, ScenarioReport, by_status, evidence, latency, round1};
use crate::{Env, Finished, ledger};
use pizza_e2e::TestApp;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// Requests per wave.
const CONCURRENCY: usize = 200;
/// Members the requests are spread over (each with a short history).
const MEMBERS: usize = 10;

/// Peak backends during a wave: all of them, and the order role's.
#[derive(Default)]
struct Peaks {
    all: AtomicI64,
    order_role: AtomicI64,
}

/// Samples `pg_stat_activity` every 20 ms until `stop`.
fn sample(
    admin_url: String,
    stop: Arc<AtomicBool>,
    peaks: Arc<Peaks>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok(mut db) = postgres::Client::connect(&admin_url, postgres::NoTls) else {
            return;
        };
        while !stop.load(Ordering::Relaxed) {
            if let Ok(row) = db.query_one(
                "SELECT count(*), count(*) FILTER (WHERE usename = 'pizza_order')
                 FROM pg_stat_activity WHERE backend_type = 'client backend'",
                &[],
            ) {
                peaks.all.fetch_max(row.get(0), Ordering::Relaxed);
                peaks.order_role.fetch_max(row.get(1), Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

/// Fires one wave while sampling the database; returns its requests and peaks.
fn fire(env: &Env, base: &str, jobs: &[(Kind, Member)], tag: &str) -> (Vec<Shot>, i64, i64) {
    let stop = Arc::new(AtomicBool::new(false));
    let peaks = Arc::new(Peaks::default());
    let sampler = sample(env.admin_url.clone(), stop.clone(), peaks.clone());
    let shots = load::wave(base, jobs, &env.menu, tag);
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    (
        shots,
        peaks.all.load(Ordering::Relaxed),
        peaks.order_role.load(Ordering::Relaxed),
    )
}

/// Runs the scenario against `app`.
pub fn run(env: &Env, app: &TestApp) -> anyhow::Result<Finished> {
    let base = app.base_url.as_str();
    let members = load::members(app, "chaospool", MEMBERS);
    let mut shots = Vec::new();
    let agent = client::agent();
    for (i, m) in members.iter().enumerate() {
        for n in 0..2 {
            let key = format!("pool-setup-{}-{i}-{n}", std::process::id());
            shots.push(client::order(
                &agent,
                base,
                m,
                &key,
                &env.menu.order_body(i + n),
            ));
        }
    }
    let member = |i: usize| members[i % MEMBERS].clone();
    let reads: Vec<_> = (0..CONCURRENCY)
        .map(|i| (Kind::MyOrder, member(i)))
        .collect();
    let mixed: Vec<_> = (0..CONCURRENCY)
        .map(|i| {
            let kind = if i % 2 == 0 {
                Kind::MyOrder
            } else {
                Kind::Order
            };
            (kind, member(i))
        })
        .collect();

    let mut failures = Vec::new();
    let mut figures = Figures::default();
    figures.add("concurrency", CONCURRENCY);
    let mut waves = Vec::new();
    for (name, jobs) in [
        ("reads", &reads),
        ("mixed", &mixed),
        ("reads_behind_lock", &reads),
    ] {
        eprintln!("pizza-chaos: pool-exhausted: wave {name} ({CONCURRENCY} at once)");
        let (wave, all, order_role) = if name == "reads_behind_lock" {
            let mut holder = postgres::Client::connect(&env.admin_url, postgres::NoTls)?;
            let mut tx = holder.transaction()?;
            tx.batch_execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")?;
            let fired = fire(env, base, jobs, &format!("pool-{name}"));
            tx.rollback()?;
            fired
        } else {
            fire(env, base, jobs, &format!("pool-{name}"))
        };
        let bad: Vec<&Shot> = wave
            .iter()
            .filter(|s| match s.status() {
                Some(200 | 201) => false,
                Some(503) => !s.proper_503(),
                _ => true,
            })
            .collect();
        if !bad.is_empty() {
            failures.push(format!(
                "wave {name}: {} requests not answered 200/201/503 within {CLIENT_TIMEOUT:?}: {}",
                bad.len(),
                evidence(bad.iter().copied())
            ));
        }
        if wave.len() != jobs.len() {
            failures.push(format!(
                "wave {name}: {} of {} client threads returned nothing",
                jobs.len() - wave.len(),
                jobs.len()
            ));
        }
        waves.push(json!({
            "wave": name,
            "requests": wave.len(),
            "by_status": by_status(&wave),
            "latency": latency(&wave),
            "hangs": bad.iter().filter(|s| s.transport_failed()).count(),
            "peak_backends": all,
            "peak_order_role_backends": order_role,
        }));
        shots.extend(wave);
    }
    figures.add("waves", waves);

    let (ledger, retries) = ledger::settle(&env.admin_url, base, &members, &shots)?;
    failures.extend(ledger.failures());
    figures.add("requests", shots.len());
    figures.add("acknowledged", ledger.acknowledged);
    figures.add("max_latency_ms", round1(crate::report::max_latency(&shots)));
    figures.add(
        "hangs",
        shots.iter().filter(|s| s.transport_failed()).count(),
    );
    figures.add("lost", ledger.lost.len());
    figures.ledger(&ledger);
    let report = ScenarioReport::new(
        "pool-exhausted",
        "waves of 200 concurrent requests (pool: 64 connections per service, make up's max_connections)",
        failures,
        figures,
    );
    Ok(Finished::new(report, shots, retries))
}
