//! Results: the table on stdout, `bench/results/<timestamp>.json` and a PNG
//! chart of latency percentiles against concurrency.

use crate::data::OrderMix;
use crate::host::ComponentSize;
use crate::load::Stats;
use crate::pgbench::{OrderStatement, PgbenchRun};
use hdrhistogram::Histogram;
use plotters::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Percentiles of a latency histogram (µs), in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Recorded requests.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    /// Summarises `hist` (values in µs).
    pub fn of(hist: &Histogram<u64>) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            count: hist.len(),
            mean_ms: hist.mean() / 1000.0,
            p50_ms: ms(hist.value_at_quantile(0.50)),
            p90_ms: ms(hist.value_at_quantile(0.90)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
            p999_ms: ms(hist.value_at_quantile(0.999)),
            max_ms: ms(hist.max()),
        }
    }
}

/// One request label within a run.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// E.g. `POST /api/order/`.
    pub label: String,
    /// Answered as expected per second.
    pub throughput_per_s: f64,
    /// Unexpected answers and transport failures.
    pub errors: u64,
    /// Latency of the expected answers.
    pub latency: Latency,
}

/// One scenario at one load.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Scenario name.
    pub scenario: String,
    /// `closed` (N users back to back) or `open` (fixed rate).
    pub mode: &'static str,
    /// Virtual users (closed loop).
    pub concurrency: Option<usize>,
    /// Requests per second scheduled (open loop).
    pub rate_per_s: Option<f64>,
    /// Wall time of the run.
    pub duration_s: f64,
    /// Expected answers per second, all labels.
    pub throughput_per_s: f64,
    /// Errors, all labels.
    pub errors: u64,
    /// Latency, all labels.
    pub latency: Latency,
    /// Per request label.
    pub endpoints: Vec<Endpoint>,
}

impl Run {
    /// Summarises `stats` of `scenario`.
    pub fn new(
        scenario: &str,
        mode: &'static str,
        concurrency: Option<usize>,
        rate: Option<f64>,
        stats: &Stats,
    ) -> Run {
        let secs = stats.elapsed.as_secs_f64().max(1e-9);
        let total = stats.total();
        Run {
            scenario: scenario.to_owned(),
            mode,
            concurrency,
            rate_per_s: rate,
            duration_s: secs,
            throughput_per_s: total.hist.len() as f64 / secs,
            errors: total.errors,
            latency: Latency::of(&total.hist),
            endpoints: stats
                .by_label
                .iter()
                .map(|(label, s)| Endpoint {
                    label: (*label).to_owned(),
                    throughput_per_s: s.hist.len() as f64 / secs,
                    errors: s.errors,
                    latency: Latency::of(&s.hist),
                })
                .collect(),
        }
    }

    /// The entry of `label`, if the run sent such requests.
    pub fn endpoint(&self, label: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.label == label)
    }
}

/// pgbench at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    /// Clients.
    pub concurrency: usize,
    /// Transactions per second.
    pub tps: f64,
    /// Failed transactions.
    pub failed: u64,
    /// Per-transaction latency.
    pub latency: Latency,
    /// The app's order placements per second at the same concurrency.
    pub app_orders_per_s: f64,
    /// `app_orders_per_s / tps`.
    pub app_to_ceiling: f64,
}

impl Ceiling {
    /// pgbench's `run` next to the app's order rush at the same concurrency.
    pub fn new(run: &PgbenchRun, app: &Run) -> Ceiling {
        let app_orders = app
            .endpoint(crate::scenario::ORDER_CREATE)
            .map_or(0.0, |e| e.throughput_per_s);
        Ceiling {
            concurrency: run.concurrency,
            tps: run.tps,
            failed: run.failed,
            latency: Latency::of(&run.hist),
            app_orders_per_s: app_orders,
            app_to_ceiling: if run.tps > 0.0 {
                app_orders / run.tps
            } else {
                0.0
            },
        }
    }
}

/// Cold start: process spawn to the first 200 on `/api/menu/`.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// With an empty compile cache (every component compiled).
    pub without_cache_ms: Option<f64>,
    /// With the cache the previous start wrote.
    pub with_cache_ms: f64,
}

/// Everything one run measured; written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// UTC start time, `YYYYMMDDTHHMMSSZ`.
    pub started_at: String,
    /// `full`, `quick` or `smoke`.
    pub mode: String,
    /// CPUs available.
    pub cpus: usize,
    /// The wasm components and their sizes.
    pub components: Vec<ComponentSize>,
    /// Cold start times.
    pub cold_start: ColdStart,
    /// The host's peak resident set size under load (VmHWM), KiB.
    pub host_peak_rss_kib: Option<u64>,
    /// The orders replayed.
    pub order_mix: OrderMix,
    /// The statement pgbench ran.
    pub order_statement: OrderStatement,
    /// Every scenario run.
    pub runs: Vec<Run>,
    /// pgbench against the app, per concurrency.
    pub ceiling: Vec<Ceiling>,
    /// All errors (unexpected statuses, transport failures, failed pgbench transactions).
    pub errors: u64,
    /// A few of them.
    pub error_samples: Vec<String>,
    /// Wall time of the whole benchmark.
    pub wall_time_s: f64,
}

fn f(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// The human-readable table.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "pizza-bench {} run {} on {} CPUs",
        r.mode, r.started_at, r.cpus
    );
    let _ = writeln!(
        s,
        "replaying {} orders of the data set: {:.2} lines and {:.2} pizzas per order, up to {} lines",
        r.order_mix.orders,
        r.order_mix.lines_per_order,
        r.order_mix.pizzas_per_order,
        r.order_mix.max_lines
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
    let cold = match r.cold_start.without_cache_ms {
        Some(ms) => format!("{ms:.0} ms without compile cache, "),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "\ncold start (spawn to first 200 on /api/menu/): {cold}{:.0} ms with cache",
        r.cold_start.with_cache_ms
    );
    let _ = writeln!(
        s,
        "\n{:<12} {:<6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
        "scenario",
        "mode",
        "load",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "errors"
    );
    for run in &r.runs {
        let load = match (run.concurrency, run.rate_per_s) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(rate)) => format!("{rate:.0}/s"),
            _ => String::new(),
        };
        let l = &run.latency;
        let _ = writeln!(
            s,
            "{:<12} {:<6} {:>9} {:>9.1} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
            run.scenario,
            run.mode,
            load,
            run.throughput_per_s,
            f(l.p50_ms),
            f(l.p90_ms),
            f(l.p99_ms),
            f(l.p999_ms),
            f(l.max_ms),
            run.errors
        );
        if run.endpoints.len() > 1 {
            for e in &run.endpoints {
                let l = &e.latency;
                let _ = writeln!(
                    s,
                    "  {:<36} {:>9.1} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
                    e.label,
                    e.throughput_per_s,
                    f(l.p50_ms),
                    f(l.p90_ms),
                    f(l.p99_ms),
                    f(l.p999_ms),
                    f(l.max_ms),
                    e.errors
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\ndatabase ceiling: pgbench running the order endpoint's statement ({} captured parameter sets)",
        r.order_statement.captured
    );
    let _ = writeln!(
        s,
        "{:>6} {:>10} {:>8} {:>8} {:>7} {:>14} {:>12}",
        "conc", "pgbench tps", "p50 ms", "p99 ms", "failed", "app orders/s", "app/ceiling"
    );
    for c in &r.ceiling {
        let _ = writeln!(
            s,
            "{:>6} {:>10.1} {:>8} {:>8} {:>7} {:>14.1} {:>11.1}%",
            c.concurrency,
            c.tps,
            f(c.latency.p50_ms),
            f(c.latency.p99_ms),
            c.failed,
            c.app_orders_per_s,
            c.app_to_ceiling * 100.0
        );
    }
    let rss = r.host_peak_rss_kib.map_or("unknown".to_owned(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    });
    let _ = writeln!(s, "\nhost peak RSS under load (VmHWM): {rss}");
    let _ = writeln!(s, "wall time: {:.1} s", r.wall_time_s);
    for e in &r.error_samples {
        let _ = writeln!(s, "  error: {e}");
    }
    let _ = writeln!(s, "errors: {}", r.errors);
    s
}

/// Writes the report as pretty JSON.
pub fn write_json(r: &Report, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(r)? + "\n")?;
    Ok(())
}

/// p50 and p99 against concurrency, per closed-loop scenario and for
/// pgbench, on log-log axes, as a PNG.
pub fn write_chart(r: &Report, path: &Path) -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("cannot load the bundled font"))?;
    // (name, [(concurrency, p50, p99)])
    type Series = (String, Vec<(f64, f64, f64)>);
    let mut series: Vec<Series> = Vec::new();
    for run in r.runs.iter().filter(|x| x.mode == "closed") {
        let point = (
            run.concurrency.unwrap_or(1) as f64,
            run.latency.p50_ms,
            run.latency.p99_ms,
        );
        match series.iter_mut().find(|(name, _)| *name == run.scenario) {
            Some((_, points)) => points.push(point),
            None => series.push((run.scenario.clone(), vec![point])),
        }
    }
    series.push((
        "pgbench (order SQL)".to_owned(),
        r.ceiling
            .iter()
            .map(|c| (c.concurrency as f64, c.latency.p50_ms, c.latency.p99_ms))
            .collect(),
    ));
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let max_c = all.clone().map(|p| p.0).fold(1.0, f64::max);
    let max_ms = all.clone().map(|p| p.2).fold(1.0, f64::max);
    let min_ms = all.map(|p| p.1).fold(f64::MAX, f64::min).clamp(0.001, 1.0);

    let root = BitMapBackend::new(path, (1400, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "pizza-bench {} {}: latency against concurrency (closed loop)",
        r.mode, r.started_at
    );
    let root = root.titled(&title, ("sans-serif", 22))?;
    let panels = root.split_evenly((1, 2));
    for (panel, (name, pick)) in panels.iter().zip([("p50", 0usize), ("p99", 1)]) {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} latency"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (0.8..max_c * 1.25).log_scale(),
                (min_ms * 0.8..max_ms * 1.5).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("concurrency (virtual users / pgbench clients)")
            .x_labels(6)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| {
                if *y >= 1.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.2}")
                }
            })
            .light_line_style(RGBColor(238, 238, 238))
            .y_desc("ms")
            .label_style(("sans-serif", 13))
            .draw()?;
        for (i, (label, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let xy: Vec<(f64, f64)> = points
                .iter()
                .map(|&(c, p50, p99)| (c, if pick == 0 { p50 } else { p99 }))
                .collect();
            chart
                .draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(xy.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
