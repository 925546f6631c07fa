//! The loaded application: engine, pre-instantiated components, router and
//! shared services. Loading performs every check Spin does before serving
//! (variables, templates, component compilation), so errors surface at start.

use crate::allowed_hosts::AllowedHosts;
use crate::cache;
use crate::engine::{EngineOptions, new_engine};
use crate::http_util::empty;
use crate::instance::{self, Invocation};
use crate::manifest::{Manifest, RouteDecl};
use crate::outbound_http::{LocalApp, OutboundHttpInstanceState, ResponseFuture};
use crate::pg::{PgInstanceState, PgPools};
use crate::routing::{Route, Router};
use crate::state::{HostState, new_linker};
use crate::variables::{AppVariables, VariablesInstanceState};
use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tracing::Instrument;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::bindings::ProxyPre;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;

/// Runtime options that are not part of the manifest.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Per-instance linear memory limit in bytes.
    pub max_instance_memory: Option<usize>,
    /// Roll back and report transactions left open by a request.
    pub strict_tx: bool,
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Instance allocation and profiling of the engine.
    pub engine: EngineOptions,
}

/// One component, ready to instantiate.
pub struct ComponentInfo {
    /// Component id from the manifest.
    pub id: String,
    /// Component variables with templates already expanded (shared with
    /// every instance's variables state).
    pub variables: Arc<HashMap<String, String>>,
    /// Parsed `allowed_outbound_hosts` (shared with every instance's
    /// PostgreSQL and outbound HTTP state).
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Guest environment variables.
    pub environment: Vec<(String, String)>,
    /// Pre-linked component exporting `wasi:http/incoming-handler`.
    pub pre: ProxyPre<HostState>,
}

/// The whole running application.
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// `[application] version`.
    pub version: Option<String>,
    /// Components by id (private ones included).
    pub components: HashMap<String, Arc<ComponentInfo>>,
    /// Public routes.
    pub router: Router,
    /// Runtime options.
    pub config: AppConfig,
    /// PostgreSQL pools shared by all components, as in Spin.
    pub pg_pools: Arc<PgPools>,
    /// The address the listener is bound to (for relative outbound requests).
    pub listen_addr: OnceLock<SocketAddr>,
}

impl App {
    /// Loads the application described by `manifest`.
    pub fn load(
        manifest: Manifest,
        cli_vars: &[(String, String)],
        config: AppConfig,
    ) -> Result<Arc<App>> {
        let vars = AppVariables::resolve(&manifest.variables, cli_vars, &manifest.dir)?;
        let engine = new_engine(config.engine)?;
        let linker = new_linker(&engine)?;
        let mut components = HashMap::new();
        for (id, decl) in &manifest.components {
            let variables = decl
                .variables
                .iter()
                .map(|(k, t)| Ok((k.clone(), vars.expand(t)?)))
                .collect::<Result<HashMap<_, _>>>()
                .map_err(configure_error)?;
            let hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|t| vars.expand(t))
                .collect::<Result<Vec<_>>>()
                .map_err(configure_error)?;
            let allowed_hosts = AllowedHosts::parse(&hosts)
                .with_context(|| format!("component {id:?}: invalid allowed_outbound_hosts"))?;
            let source = manifest.dir.join(&decl.source);
            let component = cache::load_component(&engine, &source, config.cache_dir.as_deref())
                .with_context(|| format!("failed to load component {id:?}"))?;
            let mut linker = linker.clone();
            stub_unimplemented_imports(&mut linker, &component, &engine)?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("failed to link component {id:?}"))?;
            let pre = ProxyPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} does not export wasi:http/incoming-handler")
                })?;
            let info = ComponentInfo {
                id: id.clone(),
                variables: Arc::new(variables),
                allowed_hosts: Arc::new(allowed_hosts),
                environment: decl.environment.clone().into_iter().collect(),
                pre,
            };
            components.insert(id.clone(), Arc::new(info));
        }
        let routes = manifest
            .http_triggers
            .iter()
            .filter_map(|t| match &t.route {
                RouteDecl::Path(p) => Some(Route::new(p, &t.component)),
                RouteDecl::Private { .. } => None,
            })
            .collect();
        let (router, duplicates) = Router::new(routes);
        if !duplicates.is_empty() {
            eprintln!(
                "ERROR spin_trigger_http::server: The following component routes are duplicates and will never be used:"
            );
            for (component, route, winner) in duplicates {
                eprintln!("  {component}: {route} (duplicate of {winner})");
            }
        }
        Ok(Arc::new(App {
            name: manifest.application.name,
            version: manifest.application.version,
            components,
            router,
            config,
            pg_pools: Arc::new(PgPools::default()),
            listen_addr: OnceLock::new(),
        }))
    }

    /// Runs `req` on a fresh instance of `component` (one of this app's).
    pub async fn invoke<B>(
        self: &Arc<Self>,
        component: &ComponentInfo,
        req: hyper::Request<B>,
    ) -> Result<Invocation>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<ErrorCode>,
    {
        crate::telemetry::metrics::request_routed(&self.name, &component.id);
        let span = tracing::info_span!(
            "spin_trigger_http.execute_wasm",
            "otel.name" = format!("execute_wasm_component {}", component.id),
        );
        let state = self.instance_state(component);
        let invoked = instance::invoke(&component.pre, &component.id, state, req)
            .instrument(span.clone())
            .await;
        if let Err(e) = &invoked {
            // Spin's `#[instrument(err(level = Level::INFO))]`.
            span.in_scope(|| tracing::info!(error = %e));
        }
        invoked
    }

    /// The store data of a new instance of `component`: each host interface
    /// gets only its part of the app and the component.
    fn instance_state(self: &Arc<Self>, component: &ComponentInfo) -> HostState {
        HostState::new(
            &component.id,
            &component.environment,
            self.config.max_instance_memory,
            PgInstanceState::new(
                self.pg_pools.clone(),
                component.id.clone(),
                component.allowed_hosts.clone(),
                self.config.strict_tx,
            ),
            VariablesInstanceState::new(component.id.clone(), component.variables.clone()),
            OutboundHttpInstanceState::new(component.allowed_hosts.clone(), self.clone()),
        )
    }
}

/// Outbound HTTP's view of the app: relative URLs go to its listener and
/// `*.spin.internal` requests to a fresh instance of the named component.
impl LocalApp for App {
    fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_addr.get().copied()
    }

    fn dispatch(
        self: Arc<Self>,
        id: &str,
        request: hyper::Request<HyperOutgoingBody>,
    ) -> Option<ResponseFuture> {
        let target = self.components.get(id).cloned()?;
        Some(Box::pin(async move {
            match self.invoke(&target, request).await {
                Ok(inv) => {
                    tokio::spawn(async move {
                        if let Ok(Err(e)) = inv.task.await {
                            eprintln!(
                                "ERROR spin_trigger_http::server: Error processing request: {e:?}"
                            );
                        }
                    });
                    inv.response
                }
                Err(e) => {
                    eprintln!("ERROR spin_trigger_http::server: Error processing request: {e:?}");
                    empty(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        }))
    }
}

fn configure_error(e: anyhow::Error) -> anyhow::Error {
    anyhow!("{e}")
        .context(format!(
            "spin_factor_variables::VariablesFactor::configure_app failed: {e}"
        ))
        .context("failed to configure app")
}

/// Interfaces [`new_linker`] implements; everything else is stubbed with traps.
fn is_implemented(name: &str) -> bool {
    const WASI_P2: [&str; 7] = [
        "cli",
        "clocks",
        "filesystem",
        "io",
        "random",
        "sockets",
        "http",
    ];
    let wasi = name
        .strip_prefix("wasi:")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(pkg, iface)| {
            WASI_P2.contains(&pkg)
                && iface
                    .split_once('@')
                    .is_some_and(|(_, v)| v.starts_with("0.2."))
        });
    wasi || name == "spin:postgres/postgres@4.0.0" || name == "fermyon:spin/variables@2.0.0"
}

/// Defines every import the host does not implement (key-value, sqlite,
/// redis, llm, ...) with functions that trap with a clear message, so such
/// components still load, as long as they do not call them. (wasmtime's
/// `define_unknown_imports_as_traps` trips over semver-compatible WASI names.)
fn stub_unimplemented_imports(
    linker: &mut Linker<HostState>,
    component: &Component,
    engine: &Engine,
) -> Result<()> {
    use wasmtime::component::ResourceType;
    use wasmtime::component::types::ComponentItem;
    for (name, item) in component.component_type().imports(engine) {
        if is_implemented(name) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item else {
            continue;
        };
        let mut stub = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{export}");
                    stub.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::Error::msg(format!(
                            "spin-host does not implement `{what}` (only WASI p2, wasi:http, spin:postgres@4.0.0 and fermyon:spin/variables@2.0.0)"
                        )))
                    })?;
                }
                ComponentItem::Resource(_) => {
                    stub.resource(export, ResourceType::host::<()>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
