//! Scenario 4: SIGTERM to spin-host while orders are being placed. The host
//! must stop accepting, let the requests it is serving finish and exit 0;
//! no order it committed may go unanswered, and nothing it acknowledged may be
//! lost. The unanswered requests are sent again to a new host.

use super::flag_other_than_201_or_503;
use crate::client::{Kind, Shot, now_ms};
use crate::load::{self, Recorder, Workers};
use crate::report::{Figures, ScenarioReport, evidence, flag, round1};
use crate::{Env, Finished, ledger};
use pizza_e2e::TestApp;
use std::time::Duration;
use testkit::Host;

/// Client threads placing orders, one member each.
const THREADS: usize = 6;
/// Load before the signal.
const WARM_UP: Duration = Duration::from_secs(3);
/// The longest the drain may take (testkit's `Host::stop` SIGKILLs after 20 s).
const DRAIN_BOUND_MS: f64 = 10_000.0;

/// Runs the scenario: stops `host` (serving `app`), then serves the database
/// again; returns the new host and app with the result.
pub fn run(env: &Env, host: Host, app: &TestApp) -> anyhow::Result<(Finished, Host, TestApp)> {
    let members = load::members(app, "chaosterm", THREADS);
    let jobs: Vec<_> = members.iter().map(|m| (Kind::Order, m.clone())).collect();
    let recorder = Recorder::default();
    let workers = Workers::start(&app.base_url, &jobs, &env.menu, "term", &recorder, true);
    std::thread::sleep(WARM_UP);
    eprintln!("pizza-chaos: host-sigterm: SIGTERM to spin-host under load");
    let host_log = host.output();
    let term = now_ms();
    let status = host.stop();
    let exited = now_ms();
    workers.stop();
    let shots = recorder.snapshot();
    eprintln!(
        "pizza-chaos: host-sigterm: spin-host exited ({status}) after {:.0} ms; starting a new one",
        exited - term
    );
    let (new_host, new_app) = env.serve();

    let mut failures = Vec::new();
    if !status.success() {
        failures.push(format!("spin-host exited with {status} instead of 0"));
    }
    if exited - term > DRAIN_BOUND_MS {
        failures.push(format!(
            "spin-host took {:.0} ms to drain (bound {DRAIN_BOUND_MS} ms)",
            exited - term
        ));
    }
    flag_other_than_201_or_503(&mut failures, &shots);
    flag(
        &mut failures,
        "requests failed before the signal",
        shots
            .iter()
            .filter(|s| s.transport_failed() && s.end_ms() < term),
    );
    let in_flight: Vec<&Shot> = shots.iter().filter(|s| s.spans(term)).collect();
    if in_flight.is_empty() {
        failures.push("no request was in flight at the signal: nothing was tested".to_owned());
    }

    let (ledger, retries) = ledger::settle(&env.admin_url, &new_app.base_url, &members, &shots)?;
    failures.extend(ledger.failures());
    // Committed by the host but never answered: the drain cut off a request.
    let cut_off: Vec<&Shot> = shots
        .iter()
        .filter(|s| {
            s.transport_failed()
                && s.key
                    .as_ref()
                    .is_some_and(|k| ledger.committed_keys.contains(k))
        })
        .collect();
    if !cut_off.is_empty() {
        failures.push(format!(
            "{} orders committed but their answers lost in the shutdown: {}",
            cut_off.len(),
            evidence(cut_off.iter().copied())
        ));
    }
    let in_flight_answered = in_flight.iter().filter(|s| !s.transport_failed()).count();

    let mut figures = Figures::of_orders(THREADS, &shots, &ledger);
    figures.add("exit_status", status.code());
    figures.add("drain_ms", round1(exited - term));
    figures.add("in_flight_at_sigterm", in_flight.len());
    figures.add("in_flight_answered", in_flight_answered);
    figures.add(
        "max_in_flight_latency_ms",
        round1(crate::report::max_latency(in_flight.iter().copied())),
    );
    figures.add(
        "refused_after_sigterm",
        shots
            .iter()
            .filter(|s| s.transport_failed() && s.start_ms >= term)
            .count(),
    );
    figures.add("answers_lost", cut_off.len());
    figures.add("lost", ledger.lost.len());
    figures.ledger(&ledger);
    let report = ScenarioReport::new(
        "host-sigterm",
        "SIGTERM to spin-host with orders in flight: graceful drain, nothing lost",
        failures,
        figures,
    );
    let mut finished = Finished::new(report, shots, retries);
    finished.host_log = Some(host_log);
    Ok((finished, new_host, new_app))
}
