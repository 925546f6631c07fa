//! The app under test: a Spin runtime serving the real `spin.toml` as a
//! child process (with its own children, if it runs its trigger in one, as
//! `spin up` may: they are measured and stopped with it), its cold start, its
//! memory, and the size of its components.

use crate::client::Client;
use crate::runtime::Runtime;
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before the run gives up.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// One wasm component of the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentSize {
    /// The component id in `spin.toml`.
    pub component: String,
    /// The wasm file, relative to the workspace root.
    pub source: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Writes `spin.toml` with absolute component paths to `dir/spin.toml`, so the
/// host's compile cache lives in `dir/.spin-host/cache/`; returns the manifest
/// and the components' sizes. Fails if a component has not been built.
pub fn bench_manifest(root: &Path, dir: &Path) -> anyhow::Result<(PathBuf, Vec<ComponentSize>)> {
    let text = std::fs::read_to_string(root.join("spin.toml"))?;
    let manifest: toml::Table = text.parse()?;
    let mut sizes = Vec::new();
    let mut missing = Vec::new();
    if let Some(components) = manifest.get("component").and_then(|c| c.as_table()) {
        for (id, decl) in components {
            let Some(source) = decl.get("source").and_then(|s| s.as_str()) else {
                continue;
            };
            match std::fs::metadata(root.join(source)) {
                Ok(m) => sizes.push(ComponentSize {
                    component: id.clone(),
                    source: source.to_owned(),
                    bytes: m.len(),
                }),
                Err(_) => missing.push(source.to_owned()),
            }
        }
    }
    anyhow::ensure!(
        missing.is_empty(),
        "components not built (run the wasm build first): {}",
        missing.join(", ")
    );
    std::fs::create_dir_all(dir)?;
    let path = dir.join("spin.toml");
    let absolute = text.replace(
        "source = \"target/",
        &format!("source = \"{}/target/", root.display()),
    );
    std::fs::write(&path, absolute)?;
    Ok((path, sizes))
}

/// The compile cache `spin-host` keeps next to `manifest`.
pub fn cache_dir(manifest: &Path) -> PathBuf {
    manifest
        .parent()
        .unwrap_or(Path::new("."))
        .join(".spin-host")
        .join("cache")
}

/// A running `<runtime> up`; it and its descendants are terminated on drop.
pub struct Host {
    child: Child,
    spawned: Instant,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl Host {
    /// Starts `<runtime> up -f manifest --listen 127.0.0.1:<free port>` with
    /// `variables` (as `--variable k=v` and as `SPIN_VARIABLE_K` in the
    /// environment, both ways `spin up` takes them) and the runtime's own
    /// environment, its stdout and stderr going to `log`. OpenTelemetry
    /// settings in the bench's environment (`OTEL_*`, `SPIN_OTEL_*`) are not
    /// passed on: a runtime exports only if its own environment says so.
    pub fn spawn(
        runtime: &Runtime,
        manifest: &Path,
        variables: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<Host> {
        let port = testkit::free_port();
        let out = File::create(log)?;
        let mut cmd = testkit::host_command(&runtime.binary, manifest, port, variables);
        for (k, _) in std::env::vars_os() {
            let name = k.to_string_lossy();
            if name.starts_with("OTEL_") || name.starts_with("SPIN_OTEL_") {
                cmd.env_remove(&k);
            }
        }
        for (k, v) in variables {
            cmd.env(format!("SPIN_VARIABLE_{}", k.to_uppercase()), v);
        }
        cmd.envs(runtime.env.iter().map(|(k, v)| (k, v)));
        let spawned = Instant::now();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", runtime.binary.display()))?;
        Ok(Host {
            child,
            spawned,
            base_url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The runtime's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `path` until it answers 200; returns the time since the process was spawned.
    pub async fn first_200(&mut self, client: &Client, path: &str) -> anyhow::Result<Duration> {
        let uri: http::Uri = format!("{}{path}", self.base_url).parse()?;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the runtime exited during start-up ({status})");
            }
            let req = crate::client::Req {
                label: "cold start",
                method: http::Method::GET,
                uri: uri.clone(),
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
                expect: &[200],
            };
            if crate::client::send(client, &req)
                .await
                .is_ok_and(|a| a.status == 200)
            {
                return Ok(self.spawned.elapsed());
            }
            anyhow::ensure!(
                self.spawned.elapsed() < START_TIMEOUT,
                "the runtime is not serving {path} after {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The peak resident set size (`VmHWM`) since the start or the last
    /// [`Host::reset_peak_rss`], in KiB, summed over the process and its descendants.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let peaks: Vec<u64> = tree(self.pid())
            .into_iter()
            .filter_map(vm_hwm_kib)
            .collect();
        (!peaks.is_empty()).then(|| peaks.iter().sum())
    }

    /// Starts a new peak-RSS window (`5` into `/proc/<pid>/clear_refs`, for
    /// the process and each descendant); false if the kernel refused.
    pub fn reset_peak_rss(&self) -> bool {
        tree(self.pid())
            .into_iter()
            .all(|pid| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
    }

    /// SIGTERM, then SIGKILL after 20 s; descendants left behind get SIGKILL.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let family = tree(self.pid());
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.pid() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in family.into_iter().skip(1) {
            if std::fs::metadata(format!("/proc/{pid}")).is_ok() {
                // SAFETY: kill(2) on a process our child started, noted before it exited.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// `pid` and its live descendants, `pid` first.
fn tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
            let state = rest.next()?;
            let ppid = rest.next()?.parse().ok()?;
            (state != "Z").then_some((p, ppid))
        })
        .collect();
    let mut family = vec![pid];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    family
}

/// `VmHWM` of `pid`, KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
