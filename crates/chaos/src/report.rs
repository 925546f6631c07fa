//! What a run found: per scenario its figures and the criteria it failed,
//! printed as text and written as JSON next to the other runs.

use crate::client::Shot;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use std::path::Path;

/// Named figures in the order they were added (the JSON object and the
/// printed lines keep that order, so related figures stay together).
#[derive(Default)]
pub struct Figures(Vec<(String, Value)>);

impl Figures {
    /// The figures every order-placing scenario opens with: its client threads,
    /// requests, acknowledged orders, answers by status and the 201s' latency.
    pub fn of_orders(threads: usize, shots: &[Shot], ledger: &crate::ledger::Ledger) -> Figures {
        let mut figures = Figures::default();
        figures.add("client_threads", threads);
        figures.add("requests", shots.len());
        figures.add("acknowledged", ledger.acknowledged);
        figures.add("by_status", by_status(shots));
        figures.add(
            "latency_201",
            latency(shots.iter().filter(|s| s.status() == Some(201))),
        );
        figures
    }

    /// Adds one figure.
    pub fn add(&mut self, name: &str, value: impl Into<Value>) {
        self.0.push((name.to_owned(), value.into()));
    }

    /// Adds a ledger's figures (see [`crate::ledger::Ledger`]).
    pub fn ledger(&mut self, ledger: &crate::ledger::Ledger) {
        self.add(
            "orders",
            serde_json::to_value(ledger).unwrap_or(Value::Null),
        );
    }
}

impl Serialize for Figures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One scenario's result.
#[derive(serde::Serialize)]
pub struct ScenarioReport {
    /// Short name (`postgres-killed`, ...).
    pub name: &'static str,
    /// What was done and what was required, in one sentence.
    pub what: &'static str,
    /// Whether every criterion held.
    pub passed: bool,
    /// The criteria that did not hold, with evidence.
    pub failures: Vec<String>,
    /// The measurements.
    pub figures: Figures,
}

impl ScenarioReport {
    /// A report; passed when `failures` is empty.
    pub fn new(
        name: &'static str,
        what: &'static str,
        failures: Vec<String>,
        figures: Figures,
    ) -> Self {
        ScenarioReport {
            name,
            what,
            passed: failures.is_empty(),
            failures,
            figures,
        }
    }

    /// The scenario as text: a header, one line per figure, the failures.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{} {}: {}\n",
            if self.passed { "PASS" } else { "FAIL" },
            self.name,
            self.what
        );
        for (k, v) in &self.figures.0 {
            out.push_str(&format!("    {k}: {}\n", compact(v)));
        }
        for f in &self.failures {
            out.push_str(&format!("  ! {f}\n"));
        }
        out
    }
}

/// A value on one line, floats rounded to 0.1.
fn compact(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => format!("{:.1}", n.as_f64().unwrap_or_default()),
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", compact(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) if a.iter().all(|x| x.is_object()) && !a.is_empty() => {
            let parts: Vec<String> = a.iter().map(compact).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// `{count, p50_ms, p99_ms, max_ms}` of the requests' latencies (rounded to 0.1 ms).
pub fn latency<'a>(shots: impl IntoIterator<Item = &'a Shot>) -> Value {
    let mut l: Vec<f64> = shots.into_iter().map(|s| s.latency_ms).collect();
    l.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        l.get(((l.len() as f64 - 1.0) * q).round() as usize)
            .map(|v| round1(*v))
    };
    json!({
        "count": l.len(),
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "max_ms": l.last().map(|v| round1(*v)),
    })
}

/// The largest latency among the requests (0 for none).
pub fn max_latency<'a>(shots: impl IntoIterator<Item = &'a Shot>) -> f64 {
    shots.into_iter().map(|s| s.latency_ms).fold(0.0, f64::max)
}

/// `x` rounded to 0.1.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Counts of answers by status (`"201"`, `"503"`, `"timeout"`, `"connection_error"`).
pub fn by_status<'a>(shots: impl IntoIterator<Item = &'a Shot>) -> Value {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for s in shots {
        let k = match &s.outcome {
            crate::client::Outcome::Status(c) => c.to_string(),
            crate::client::Outcome::Timeout => "timeout".to_owned(),
            crate::client::Outcome::ConnectionError(_) => "connection_error".to_owned(),
        };
        *counts.entry(k).or_default() += 1;
    }
    json!(counts)
}

/// Up to three requests as evidence, `; `-separated.
pub fn evidence<'a>(shots: impl IntoIterator<Item = &'a Shot>) -> String {
    shots
        .into_iter()
        .take(3)
        .map(Shot::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Records a failure naming how many `shots` broke `rule`, with the first few
/// as evidence; nothing when there are none.
pub fn flag<'a>(failures: &mut Vec<String>, rule: &str, shots: impl IntoIterator<Item = &'a Shot>) {
    let shots: Vec<&Shot> = shots.into_iter().collect();
    if !shots.is_empty() {
        failures.push(format!(
            "{} {rule}: {}",
            shots.len(),
            evidence(shots.iter().copied())
        ));
    }
}

/// The whole run.
#[derive(serde::Serialize)]
pub struct Report {
    /// UTC start, also the file name.
    pub started_at: String,
    /// Seconds the run took.
    pub wall_time_s: f64,
    /// Whether every scenario passed.
    pub passed: bool,
    /// The database and host the run used (settings that decide the outcome).
    pub setup: Value,
    /// The scenarios, in the order run.
    pub scenarios: Vec<ScenarioReport>,
}

/// Writes `report` as pretty JSON to `path`.
pub fn write_json(report: &Report, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(report)? + "\n")?;
    Ok(())
}
