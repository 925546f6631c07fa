//! `spin-host`: runs a Spin 3.6 HTTP application from its `spin.toml` on
//! wasmtime, for environments where the Spin CLI is not installed.
//!
//! Modules form layers; each imports only modules of lower layers (check with
//! `grep -o 'crate::[a-z_]*'`), so there are no import cycles:
//!
//! 1. leaves: `manifest`, `routing`, `allowed_hosts`, `logging`, `cache`,
//!    `bindings`, `pooling`;
//! 2. `http_util` (routing), `selection` (allowed_hosts, manifest), `engine`
//!    (pooling);
//! 3. the host interfaces, each with its own per-instance state, as Spin's
//!    factors: `pg` (allowed_hosts, bindings), `variables` (bindings,
//!    manifest), `outbound_http` (allowed_hosts, http_util, routing);
//!    `cli` (engine, variables);
//! 4. `state`, the store data made of those parts (logging, pg, variables,
//!    outbound_http);
//! 5. `instance` (engine, state);
//! 6. `app` (everything below; it implements `outbound_http::LocalApp`, the
//!    view of the app that `*.spin.internal` chaining needs);
//! 7. `trigger` (app, http_util, instance, logging, routing);
//! 8. `main`.
//!
//! `telemetry` (OpenTelemetry export) is a leaf that every layer may use.

mod allowed_hosts;
mod app;
mod bindings;
mod cache;
mod cli;
mod engine;
mod http_util;
mod instance;
mod logging;
mod manifest;
mod outbound_http;
mod pg;
mod pooling;
mod routing;
mod selection;
mod state;
mod telemetry;
mod trigger;
mod variables;

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // What Spin 3.6.3's `#[tokio::main]` (`src/bin/spin.rs`) builds: a
    // multi-threaded runtime with tokio's default worker count (one per core)
    // and all drivers.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("spin-host: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// Prints a fatal error as one line with its causes joined by `: `, or with
/// anyhow's full report (causes on their own lines, and the backtrace) when
/// `RUST_BACKTRACE` asks for detail.
fn report(error: &anyhow::Error) {
    let detailed = std::env::var("RUST_BACKTRACE").is_ok_and(|v| !v.is_empty() && v != "0");
    if detailed {
        eprintln!("spin-host: error: {error:?}");
    } else {
        eprintln!("spin-host: error: {error:#}");
    }
}

async fn run(cli: cli::Cli) -> Result<()> {
    let telemetry = telemetry::init(concat!("spin-host ", env!("CARGO_PKG_VERSION")))?;
    let mut manifest = manifest::Manifest::load(&cli.from)?;
    if let Some(selection) = selection::Selection::choose(&cli.components) {
        selection.apply(&mut manifest)?;
    }
    // `spin up`'s check, after the selection as there.
    anyhow::ensure!(!manifest.http_triggers.is_empty(), "No triggers in app");
    let config = app::AppConfig {
        max_instance_memory: cli.max_instance_memory,
        strict_tx: cli.strict_tx,
        cache_dir: (!cli.no_cache).then(|| manifest.dir.join(".spin-host").join("cache")),
        engine: engine::EngineOptions {
            disable_pooling: cli.disable_pooling,
            profiler: cli.profiler,
        },
    };
    if config.strict_tx {
        eprintln!("spin-host: strict transaction mode is on (SPIN_HOST_STRICT_TX)");
    }
    let app = app::App::load(manifest, &cli.variables, config)?;
    let pools = app.pg_pools.clone();
    telemetry::metrics::observe_pools(move || pools.states());
    if telemetry.exporting() {
        eprintln!("spin-host: exporting OpenTelemetry (OTEL_EXPORTER_OTLP_*)");
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("failed to listen on {}", cli.listen))?;
    let addr = listener.local_addr()?;
    let _ = app.listen_addr.set(addr);
    trigger::print_routes(&app, &format!("http://{addr}"));
    trigger::serve(app, listener, shutdown_signal()).await?;
    telemetry.shutdown().await;
    eprintln!("spin-host: shut down");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {},
        _ = term.recv() => {},
    }
}
