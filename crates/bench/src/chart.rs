//! The PNG chart: p50 and p99 latency against concurrency, per closed-loop
//! scenario (per runtime) and for pgbench.

use crate::report::Report;
use plotters::prelude::*;
use std::path::Path;

/// p50 and p99 against concurrency, per closed-loop scenario and for
/// pgbench, on log-log axes, as a PNG.
pub fn write_chart(r: &Report, path: &Path) -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("cannot load the bundled font"))?;
    // (name, [(concurrency, p50, p99)])
    type Series = (String, Vec<(f64, f64, f64)>);
    let mut series: Vec<Series> = Vec::new();
    let several = r.runtimes.len() > 1;
    for rt in &r.runtimes {
        for run in rt.runs.iter().filter(|x| x.mode == "closed") {
            let point = (
                run.concurrency.unwrap_or(1) as f64,
                run.latency.p50_ms,
                run.latency.p99_ms,
            );
            let name = if several {
                format!("{}: {}", rt.runtime.name, run.scenario)
            } else {
                run.scenario.clone()
            };
            match series.iter_mut().find(|(n, _)| *n == name) {
                Some((_, points)) => points.push(point),
                None => series.push((name, vec![point])),
            }
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
