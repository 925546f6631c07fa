//! On-disk cache of compiled components, so restarting the host does not pay
//! for Cranelift again. Entries are keyed by the sha256 of the wasm bytes and
//! the engine's compatibility hash (wasmtime version + compilation settings).

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Loads the component at `wasm_path`, from `cache_dir` when possible.
/// `cache_dir = None` disables the cache.
pub fn load_component(
    engine: &Engine,
    wasm_path: &Path,
    cache_dir: Option<&Path>,
) -> Result<Component> {
    let wasm = std::fs::read(wasm_path)
        .with_context(|| format!("failed to read component source {}", wasm_path.display()))?;
    let Some(dir) = cache_dir else {
        return compile(engine, &wasm, wasm_path);
    };
    let entry = dir.join(format!("{}.cwasm", cache_key(engine, &wasm)));
    if entry.exists() {
        // SAFETY: the file was written by `Component::serialize` of this host
        // for an engine with the same compatibility hash (part of the key).
        match unsafe { Component::deserialize_file(engine, &entry) } {
            Ok(c) => return Ok(c),
            Err(e) => eprintln!(
                "spin-host: ignoring unusable cache entry {}: {e}",
                entry.display()
            ),
        }
    }
    let component = compile(engine, &wasm, wasm_path)?;
    if let Err(e) = store(&component, dir, &entry) {
        eprintln!(
            "spin-host: could not write compilation cache {}: {e:#}",
            entry.display()
        );
    }
    Ok(component)
}

fn compile(engine: &Engine, wasm: &[u8], path: &Path) -> Result<Component> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("failed to compile {}", path.display()))
}

fn store(component: &Component, dir: &Path, entry: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = entry.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, entry)?;
    Ok(())
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut h = Sha256::new();
    h.update(wasm);
    h.update(engine_hash.finish().to_le_bytes());
    hex::encode(h.finalize())
}
