//! Where and from what a run was made: the git commit and the machine.

use serde::Serialize;
use std::path::Path;
use std::process::Command;

/// The source the run was built from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// `git rev-parse HEAD`, if the tree is a git checkout.
    pub commit: Option<String>,
    /// Whether `git status --porcelain` lists any change.
    pub dirty: Option<bool>,
}

/// The machine the run was made on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may use.
    pub cpus: usize,
    /// `processor` entries in `/proc/cpuinfo`.
    pub cores_online: usize,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// `MemTotal` of `/proc/meminfo`, MiB.
    pub memory_mib: Option<u64>,
    /// `uname -r`-like kernel release.
    pub kernel: Option<String>,
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Source {
    /// The checkout at `root`.
    pub fn of(root: &Path) -> Source {
        Source {
            commit: git(root, &["rev-parse", "HEAD"]).map(|s| s.trim().to_owned()),
            dirty: git(root, &["status", "--porcelain"]).map(|s| !s.trim().is_empty()),
        }
    }
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let value = |line: &str| line.split_once(':').map(|(_, v)| v.trim().to_owned());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cores_online: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(value),
            memory_mib: meminfo
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(value)
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned()),
        }
    }
}
