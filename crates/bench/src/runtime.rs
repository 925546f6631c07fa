//! The Spin runtimes a run serves `spin.toml` with: our `spin-host` always,
//! and Fermyon's `spin` when given, both as `<bin> up -f spin.toml --listen
//! ADDR --variable k=v`.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One runtime binary.
#[derive(Debug, Clone, Serialize)]
pub struct Runtime {
    /// `spin-host` (ours) or `spin`.
    pub name: &'static str,
    /// The binary, as given.
    pub binary: PathBuf,
    /// The first line of `<binary> --version`.
    pub version: String,
}

impl Runtime {
    /// Our host, `bin` (`target/release/spin-host` unless `SPIN_HOST_BIN`).
    pub fn ours(bin: PathBuf) -> anyhow::Result<Runtime> {
        Runtime::new("spin-host", bin)
    }

    /// Spin itself (or anything that runs `spin up` the same way).
    pub fn spin(bin: &Path) -> anyhow::Result<Runtime> {
        Runtime::new("spin", bin.to_owned())
    }

    fn new(name: &'static str, binary: PathBuf) -> anyhow::Result<Runtime> {
        let out = Command::new(&binary)
            .arg("--version")
            .output()
            .map_err(|e| anyhow::anyhow!("cannot run {} --version: {e}", binary.display()))?;
        anyhow::ensure!(
            out.status.success(),
            "{} --version failed ({})",
            binary.display(),
            out.status
        );
        let version = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        Ok(Runtime {
            name,
            binary,
            version,
        })
    }
}
