//! Running one request through a fresh component instance, shared by the
//! HTTP listener and in-process `<id>.spin.internal` dispatch (both reach it
//! through `app::App::invoke`, which builds the instance's state).

use crate::engine::EPOCH_DEADLINE;
use crate::state::HostState;
use anyhow::{Result, anyhow};
use bytes::Bytes;
use hyper::body::Body;
use tokio::task::JoinHandle;
use tracing::Instrument;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::bindings::ProxyPre;
use wasmtime_wasi_http::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::body::HyperOutgoingBody;

/// A response head produced by the guest, whose body may still be streaming.
pub struct Invocation {
    /// The guest's response.
    pub response: hyper::Response<HyperOutgoingBody>,
    /// The guest task; resolves when the handler has returned and the
    /// instance's PostgreSQL connections were released. `Ok(true)` means a
    /// transaction was left open (strict mode only).
    pub task: JoinHandle<Result<bool>>,
}

/// Instantiates the pre-linked component `pre` (of component id `component`)
/// with store data `state` and hands it `req`. Errors when the guest failed before producing a response
/// (trap, panic, missing `set`).
pub async fn invoke<B>(
    pre: &ProxyPre<HostState>,
    component: &str,
    state: HostState,
    req: hyper::Request<B>,
) -> Result<Invocation>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<ErrorCode>,
{
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(EPOCH_DEADLINE);
    let req = store.data_mut().new_incoming_request(Scheme::Http, req)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let out = store.data_mut().new_response_outparam(sender)?;
    let pre = pre.clone();
    let active = crate::telemetry::metrics::instance_started(component);
    // The guest runs in the caller's span (Spin's `in_current_span`), so its
    // PostgreSQL and outbound HTTP spans are children of `execute_wasm`.
    let task = tokio::spawn(
        async move {
            let _active = active;
            let result = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await?;
                anyhow::Ok(())
            }
            .await;
            let leaked = store.data_mut().release_connections().await;
            result.map(|()| leaked)
        }
        .in_current_span(),
    );
    match receiver.await {
        Ok(Ok(response)) => Ok(Invocation { response, task }),
        Ok(Err(code)) => Err(anyhow!("guest returned error code {code:?}")),
        Err(_) => match task.await {
            Ok(Ok(_)) => Err(anyhow!(
                "guest never invoked `response-outparam::set` method"
            )),
            Ok(Err(e)) => Err(e.context("guest invocation failed")),
            Err(e) => Err(anyhow!(e).context("guest task failed")),
        },
    }
}
