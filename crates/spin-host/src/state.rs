//! Per-instance store data: WASI and wasi:http contexts, resource limits and
//! the Spin host state (component identity, PostgreSQL connections). One is
//! created for every request, as Spin uses a fresh instance per request.

use crate::app::{App, ComponentInfo};
use crate::logging::PrefixedOutput;
use crate::pg::PgState;
use std::sync::Arc;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;

/// Everything a component instance can reach through its imports.
pub struct HostState {
    /// WASI p2 context (env, stdio, clocks, random).
    pub wasi: WasiCtx,
    /// wasi:http context.
    pub http: WasiHttpCtx,
    /// Resources shared by WASI and wasi:http.
    pub table: ResourceTable,
    /// Memory limit (`SPIN_MAX_INSTANCE_MEMORY`).
    pub limits: StoreLimits,
    /// The component this instance belongs to.
    pub component: Arc<ComponentInfo>,
    /// The whole application (for `<id>.spin.internal` dispatch and pools).
    pub app: Arc<App>,
    /// Open PostgreSQL connections of this instance.
    pub pg: PgState,
}

impl HostState {
    /// Builds the state for a new instance of `component`.
    pub fn new(app: Arc<App>, component: Arc<ComponentInfo>) -> HostState {
        let mut builder = WasiCtx::builder();
        builder
            .envs(&component.environment)
            .stdout(PrefixedOutput::new(&component.id))
            .stderr(PrefixedOutput::new(&component.id));
        let mut limits = wasmtime::StoreLimitsBuilder::new();
        if let Some(max) = app.config.max_instance_memory {
            limits = limits.memory_size(max);
        }
        HostState {
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: limits.build(),
            pg: PgState::new(
                app.pg_pools.clone(),
                component.id.clone(),
                app.config.strict_tx,
            ),
            component,
            app,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
