//! The wasmtime engine, configured as Spin 3.6.3's `spin_core::Config::default`
//! and `EngineBuilder` (`crates/core/src/lib.rs`) configure it, plus an
//! opt-in JIT profiler for `perf`, which Spin does not have.

use crate::pooling;
use anyhow::Result;
use std::time::Duration;
use wasmtime::{Engine, InstanceAllocationStrategy, ProfilingStrategy};

/// How often the epoch ticker advances the engine's epoch: Spin's
/// `DEFAULT_EPOCH_TICK_INTERVAL` (`crates/core/src/lib.rs`).
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The epoch deadline of every store: "practically never", as Spin's
/// `StoreBuilder::build` sets it (`crates/core/src/store.rs`), because with
/// epoch interruption on, a store without a deadline traps at once.
pub const EPOCH_DEADLINE: u64 = u64::MAX / 2;

/// A JIT profiler wasmtime can feed (`SPIN_HOST_PROFILER`); Spin 3.6.3 has
/// none, so the default is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profiler {
    /// Writes `/tmp/perf-<pid>.map`, so `perf report` names JIT-compiled
    /// wasm functions.
    Perfmap,
}

/// Engine options that are not Spin's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineOptions {
    /// `spin up --disable-pooling`: on-demand instance allocation
    /// (`crates/trigger/src/cli.rs`, `Config::disable_pooling` in
    /// `crates/core/src/lib.rs`).
    pub disable_pooling: bool,
    /// The JIT profiler, if any.
    pub profiler: Option<Profiler>,
}

/// Builds the engine and starts its epoch ticker thread.
pub fn new_engine(options: EngineOptions) -> Result<Engine> {
    let mut config = wasmtime::Config::new();
    // Spin compiles epoch checks into guest code (`Config::default`); stores
    // get `EPOCH_DEADLINE`, so they only cost the checks.
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // `Config::default` builds the pool (reading its overrides) whenever the
    // probe allows it; `--disable-pooling` then replaces it by wasmtime's
    // default, on-demand allocation, as it does in Spin.
    let pool = pooling::enabled().then(pooling::config);
    if let Some(pool) = pool.filter(|_| !options.disable_pooling) {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    if options.profiler == Some(Profiler::Perfmap) {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;
    spawn_epoch_ticker(&engine);
    Ok(engine)
}

/// Advances the epoch every `EPOCH_TICK` until the engine is dropped, as
/// Spin's `EngineBuilder::build` does with its ticker thread
/// (`crates/core/src/lib.rs`, `maybe_spawn_epoch_ticker`).
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        }
    });
}
