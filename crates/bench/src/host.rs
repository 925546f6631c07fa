//! The app under test: `spin-host` serving the real `spin.toml` as a child
//! process, its cold start, its memory, and the size of its components.

use crate::client::Client;
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

/// The compile cache the host keeps next to `manifest`.
pub fn cache_dir(manifest: &Path) -> PathBuf {
    manifest
        .parent()
        .unwrap_or(Path::new("."))
        .join(".spin-host")
        .join("cache")
}

/// A running `spin-host up`; terminated on drop.
pub struct Host {
    child: Child,
    spawned: Instant,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl Host {
    /// Starts `bin up -f manifest --listen 127.0.0.1:<free port>` with `variables`,
    /// its stdout and stderr (routes, one access-log line per request) going to `log`.
    pub fn spawn(
        bin: &Path,
        manifest: &Path,
        variables: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<Host> {
        let port = testkit::free_port();
        let out = File::create(log)?;
        let mut cmd = testkit::host_command(bin, manifest, port, variables);
        let spawned = Instant::now();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
        Ok(Host {
            child,
            spawned,
            base_url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Polls `path` until it answers 200; returns the time since the process was spawned.
    pub async fn first_200(&mut self, client: &Client, path: &str) -> anyhow::Result<Duration> {
        let uri: http::Uri = format!("{}{path}", self.base_url).parse()?;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("spin-host exited during start-up ({status})");
            }
            let req = crate::client::Req {
                label: "cold start",
                method: http::Method::GET,
                uri: uri.clone(),
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
                expect: &[200],
            };
            if let Ok((200, _)) = crate::client::send(client, &req).await {
                return Ok(self.spawned.elapsed());
            }
            anyhow::ensure!(
                self.spawned.elapsed() < START_TIMEOUT,
                "spin-host not serving {path} after {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The process's peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// SIGTERM, then SIGKILL after 20 s.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.terminate();
    }
}
