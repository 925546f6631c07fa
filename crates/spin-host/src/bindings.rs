//! Host bindings generated from `wit/host.wit`: the Spin interfaces the host
//! implements beyond WASI (PostgreSQL v4 and variables v2).

wasmtime::component::bindgen!({
    path: "wit",
    world: "spin-host:host/host",
    imports: { default: async },
    with: {
        "spin:postgres/postgres.connection": crate::pg::Connection,
    },
});
