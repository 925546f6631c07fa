//! Per-instance store data: the WASI and wasi:http contexts, resource limits,
//! and the state of each Spin host interface (PostgreSQL, variables, outbound
//! HTTP), each holding only what its interface uses, as in Spin's factors.
//! One is created for every request, as Spin uses a fresh instance per
//! request. This module depends on the interface modules, never the other way
//! round: [`new_linker`] projects the store data to each interface's part.

use crate::logging::PrefixedOutput;
use crate::outbound_http::OutboundHttpInstanceState;
use crate::pg::{self, PgInstanceState};
use crate::variables::{self, VariablesInstanceState};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

/// Everything a component instance can reach through its imports.
pub struct HostState {
    /// WASI p2 context (env, stdio, clocks, random).
    wasi: WasiCtx,
    /// wasi:http context.
    http: WasiHttpCtx,
    /// Resources shared by WASI and wasi:http.
    table: ResourceTable,
    /// Memory limit (`SPIN_MAX_INSTANCE_MEMORY`), applied by the store's limiter.
    pub limits: StoreLimits,
    /// `spin:postgres`: pools, allow-list, open connections.
    pg: PgInstanceState,
    /// `fermyon:spin/variables`: the component's variables.
    variables: VariablesInstanceState,
    /// `wasi:http/outgoing-handler` policy: allow-list and service chaining.
    outbound_http: OutboundHttpInstanceState,
}

impl HostState {
    /// Builds the state for a new instance of component `component_id`, whose
    /// guest sees `environment` and may grow its memories to at most
    /// `max_memory` bytes (`None`: no limit).
    pub fn new(
        component_id: &str,
        environment: &[(String, String)],
        max_memory: Option<usize>,
        pg: PgInstanceState,
        variables: VariablesInstanceState,
        outbound_http: OutboundHttpInstanceState,
    ) -> HostState {
        let mut builder = WasiCtx::builder();
        builder
            .envs(environment)
            .stdout(PrefixedOutput::new(component_id))
            .stderr(PrefixedOutput::new(component_id));
        let mut limits = wasmtime::StoreLimitsBuilder::new();
        if let Some(max) = max_memory {
            limits = limits.memory_size(max);
        }
        HostState {
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: limits.build(),
            pg,
            variables,
            outbound_http,
        }
    }

    /// Returns every PostgreSQL connection the instance still holds to its
    /// pool (checking it in strict mode); `true` if any was found inside a
    /// transaction.
    pub async fn release_connections(&mut self) -> bool {
        self.pg.release_all().await
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

impl WasiHttpView for HostState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        self.outbound_http.send_request(request, config)
    }
}

/// Linker with WASI p2, wasi:http and the Spin interfaces, each interface
/// served by its own part of [`HostState`].
pub fn new_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::add_only_http_to_linker_async(&mut linker)?;
    pg::add_to_linker(&mut linker, |state: &mut HostState| &mut state.pg)?;
    variables::add_to_linker(&mut linker, |state: &mut HostState| &mut state.variables)?;
    Ok(linker)
}
