//! perf and inferno: record a process's stacks, fold them, draw the flame graph.

use crate::folded;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// perf's sampling frequency (Hz): not a multiple of the scheduler tick.
pub const FREQUENCY: &str = "999";

/// `<tool> --version`, if it runs.
pub fn version(tool: &str) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The `perf record` arguments, for the report.
pub fn record_command(call_graph: &str) -> String {
    format!("perf record -e cpu-clock -F {FREQUENCY} --call-graph {call_graph} -p <pid>")
}

/// A `perf record` running on one process; stopped with [`Recording::finish`].
pub struct Recording {
    perf: Child,
    data: PathBuf,
}

impl Recording {
    /// Samples `pid` with `cpu-clock` events (the VM has no hardware
    /// counters) and stacks as `call_graph` says, into `data`.
    pub fn start(pid: u32, call_graph: &str, data: &Path) -> anyhow::Result<Recording> {
        // perf keeps a previous file as `<data>.old`: no need, it is tens of MiB.
        let _ = std::fs::remove_file(data);
        let perf = Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", FREQUENCY])
            .args(["--call-graph", call_graph])
            .arg("-p")
            .arg(pid.to_string())
            .arg("-o")
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run perf: {e}"))?;
        Ok(Recording {
            perf,
            data: data.to_owned(),
        })
    }

    /// SIGINT, on which perf writes the data and exits; then the data file.
    pub fn finish(mut self) -> anyhow::Result<PathBuf> {
        // SAFETY: kill(2) on our own child, perf.
        unsafe { libc::kill(self.perf.id() as libc::pid_t, libc::SIGINT) };
        let status = self.perf.wait()?;
        anyhow::ensure!(self.data.exists(), "perf record failed ({status})");
        Ok(self.data)
    }
}

/// `perf script` of `data` → `inferno-collapse-perf` (kernel frames marked
/// `_[k]`) → wasm symbols demangled → `folded`; then `inferno-flamegraph`
/// → `svg`. Returns the folded stacks.
pub fn flame_graph(
    tools: &Path,
    data: &Path,
    folded: &Path,
    svg: &Path,
    title: &str,
) -> anyhow::Result<String> {
    let script = data.with_extension("script");
    let status = Command::new("perf")
        // Without --no-inline, perf 6.1 asks addr2line about every frame and can hang on it.
        .args(["script", "--no-inline", "-i"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&script)?)
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "perf script failed ({status})");
    let out = Command::new(tools.join("inferno-collapse-perf"))
        .arg("--all")
        .arg(&script)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "inferno-collapse-perf failed ({})",
        out.status
    );
    let _ = std::fs::remove_file(&script);
    let stacks = folded::demangle(&String::from_utf8_lossy(&out.stdout));
    std::fs::write(folded, &stacks)?;
    let status = Command::new(tools.join("inferno-flamegraph"))
        .args(["--title", title, "--countname", "ns"])
        .arg(folded)
        .stdout(std::fs::File::create(svg)?)
        .status()?;
    anyhow::ensure!(status.success(), "inferno-flamegraph failed ({status})");
    Ok(stacks)
}
