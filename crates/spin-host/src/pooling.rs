//! Wasmtime's pooling instance allocator, sized and probed as Spin 3.6.3 does
//! it in `crates/core/src/lib.rs` (`Config::default` and
//! `use_pooling_allocator_by_default`), including the `SPIN_MAX_INSTANCE_COUNT`
//! and `SPIN_WASMTIME_*` environment overrides, so the same app hits the same
//! instance, memory and table limits on both hosts.

use std::str::FromStr;
use std::sync::OnceLock;
use wasmtime::PoolingAllocationConfig;

const MIB: u64 = 1 << 20;
const GIB: usize = 1 << 30;

/// Bytes of a released linear memory slot kept resident (zeroed in place)
/// rather than given back to the kernel: Spin 3.6.3's default
/// (`crates/core/src/lib.rs`, `Config::default`). It is the largest memory
/// cost of a busy app on either runtime: wasmtime keeps up to 100 idle slots
/// affine to each module, each holding its first 2 MiB, so the process grows
/// by about 2 MiB for every slot a burst used (on the pizza bench: 171 MiB
/// after orders at 32 users, against 43 MiB with 0). Guests see zeroed memory
/// either way; `SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT=0` trades that
/// memory for a page fault per touched page, on this host and on Spin alike.
const LINEAR_MEMORY_KEEP_RESIDENT: usize = 2 << 20;

/// Reads the override `name`, or `default` when it is unset. A value that
/// does not parse stops the host with a panic, as Spin 3.6.3 does
/// (`crates/core/src/lib.rs`, the `env` helper of `Config::default`).
fn env_or<T>(name: &str, default: T) -> T
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let Ok(value) = std::env::var(name) else {
        return default;
    };
    match value.parse() {
        Ok(parsed) => parsed,
        Err(e) => panic!("failed to parse env var `{name}={value}`: {e}"),
    }
}

/// The pool Spin 3.6.3 configures (`crates/core/src/lib.rs`,
/// `Config::default`). Every count derives from `SPIN_MAX_INSTANCE_COUNT`
/// (default 1000: the most requests served at once); each limit can be
/// overridden by the `SPIN_WASMTIME_*` variable named next to it.
pub fn config() -> PoolingAllocationConfig {
    let max_instances: u32 = env_or("SPIN_MAX_INSTANCE_COUNT", 1_000);
    let mut pool = PoolingAllocationConfig::default();
    // Totals across all live instances.
    pool.total_component_instances(env_or("SPIN_WASMTIME_INSTANCE_COUNT", max_instances))
        .total_memories(env_or("SPIN_WASMTIME_TOTAL_MEMORIES", max_instances))
        .total_tables(env_or("SPIN_WASMTIME_TOTAL_TABLES", 2 * max_instances))
        .total_stacks(env_or("SPIN_WASMTIME_TOTAL_STACKS", max_instances))
        .total_core_instances(env_or(
            "SPIN_WASMTIME_TOTAL_CORE_INSTANCES",
            4 * max_instances,
        ))
        .table_elements(env_or("SPIN_WASMTIME_INSTANCE_TABLE_ELEMENTS", 100_000));
    // Per-instance sizes of wasmtime's own bookkeeping.
    pool.max_component_instance_size(env_or("SPIN_WASMTIME_INSTANCE_SIZE", 10 * MIB) as usize)
        .max_core_instance_size(env_or("SPIN_WASMTIME_CORE_INSTANCE_SIZE", 10 * MIB) as usize);
    // Per-component and per-module limits.
    pool.max_core_instances_per_component(env_or("SPIN_WASMTIME_CORE_INSTANCE_COUNT", 200))
        .max_tables_per_component(env_or("SPIN_WASMTIME_INSTANCE_TABLES", 64))
        .max_memories_per_component(env_or("SPIN_WASMTIME_INSTANCE_MEMORIES", 32))
        .max_tables_per_module(env_or("SPIN_WASMTIME_MAX_TABLES_PER_MODULE", 2))
        .max_memories_per_module(env_or("SPIN_WASMTIME_MAX_MEMORIES_PER_MODULE", 2))
        .max_memory_size(4 * GIB);
    // What a released slot keeps resident for its next instance.
    pool.linear_memory_keep_resident(env_or(
        "SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT",
        LINEAR_MEMORY_KEEP_RESIDENT,
    ))
    .table_keep_resident(env_or("SPIN_WASMTIME_TABLE_KEEP_RESIDENT", MIB / 2) as usize);
    pool
}

/// Whether to use the pool at all, decided once per process as Spin 3.6.3's
/// `use_pooling_allocator_by_default` (`crates/core/src/lib.rs`) does:
/// `SPIN_WASMTIME_POOLING=1`/`0` forces it (any other value panics), else a
/// probe reserves a 2^42-byte memory and the pool is used only if that works
/// (machines with a 39-bit address space cannot hold the pool's reservation
/// and fall back to on-demand allocation).
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| match std::env::var("SPIN_WASMTIME_POOLING") {
        Ok(v) if v == "1" => true,
        Ok(v) if v == "0" => false,
        Ok(v) => panic!("SPIN_WASMTIME_POOLING={v} not supported, only 1/0 supported"),
        Err(_) => address_space_probe(),
    })
}

/// Bits of address space the probe asks for.
const PROBE_BITS: u32 = 42;

/// Creates a 64-bit memory whose maximum needs `PROBE_BITS` bits of virtual
/// address space reserved up front.
fn address_space_probe() -> bool {
    let mut config = wasmtime::Config::new();
    config
        .wasm_memory64(true)
        .memory_reservation(1 << PROBE_BITS);
    let Ok(engine) = wasmtime::Engine::new(&config) else {
        return false;
    };
    let mut store = wasmtime::Store::new(&engine, ());
    // The maximum is counted in 64 KiB wasm pages.
    let ty = wasmtime::MemoryType::new64(0, Some(1 << (PROBE_BITS - 16)));
    wasmtime::Memory::new(&mut store, ty).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_override_gives_the_default() {
        assert_eq!(env_or("SPIN_HOST_TEST_SURELY_UNSET", 7u32), 7);
    }

    #[test]
    #[should_panic(expected = "failed to parse env var `PATH=")]
    fn unparsable_override_panics_like_spin() {
        let _: u32 = env_or("PATH", 0);
    }

    #[test]
    fn this_machine_can_hold_the_pool() {
        assert!(address_space_probe());
    }
}
