//! Host bindings generated from `wit/host.wit`: the Spin interfaces the host
//! implements beyond WASI (PostgreSQL v4 and variables v2).
//!
//! A leaf module: the `connection` resource keeps the type bindgen generates
//! for it (the host's connection state lives in `pg::PgInstanceState`, keyed
//! by the resource's handle), so the bindings do not refer back to the
//! modules that implement them.

wasmtime::component::bindgen!({
    path: "wit",
    world: "spin-host:host/host",
    imports: { default: async },
});
