//! The Spin runtimes a run serves `spin.toml` with: our `spin-host` always,
//! `spin-host` again exporting OpenTelemetry when asked (`--otel`), and
//! Fermyon's `spin` when given, all as `<bin> up -f spin.toml --listen ADDR
//! --variable k=v`, each with the environment it runs with.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Our host's name in the report.
pub const OURS: &str = "spin-host";
/// Our host exporting by OTLP.
pub const OURS_OTLP: &str = "spin-host+otlp";
/// Spin's name in the report.
pub const SPIN: &str = "spin";

/// One runtime binary and the environment it runs with.
#[derive(Debug, Clone, Serialize)]
pub struct Runtime {
    /// [`OURS`], [`OURS_OTLP`] or [`SPIN`].
    pub name: &'static str,
    /// The binary, as given.
    pub binary: PathBuf,
    /// The first line of `<binary> --version`.
    pub version: String,
    /// Variables set in its environment, on top of the bench's own (whose
    /// OpenTelemetry settings it never gets: see [`crate::host::Host::spawn`]).
    pub env: Vec<(String, String)>,
}

impl Runtime {
    /// Our host, `bin` (`target/release/spin-host` unless `SPIN_HOST_BIN`).
    pub fn ours(bin: PathBuf) -> anyhow::Result<Runtime> {
        Runtime::new(OURS, bin)
    }

    /// Spin itself (or anything that runs `spin up` the same way).
    pub fn spin(bin: &Path) -> anyhow::Result<Runtime> {
        Runtime::new(SPIN, bin.to_owned())
    }

    /// This runtime again as [`OURS_OTLP`]: exporting traces, metrics and
    /// logs to `endpoint` with the SDK's defaults (spans batched every 5 s,
    /// metrics every 60 s), as for a user who sets only these two variables.
    pub fn exporting(&self, endpoint: &str) -> Runtime {
        Runtime {
            name: OURS_OTLP,
            ..self.clone()
        }
        .with_env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .with_env("OTEL_SERVICE_NAME", "pizza-bench")
    }

    /// This runtime with `key=value` in its environment too.
    pub fn with_env(mut self, key: &str, value: &str) -> Runtime {
        self.env.push((key.to_owned(), value.to_owned()));
        self
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
            env: Vec::new(),
        })
    }
}
