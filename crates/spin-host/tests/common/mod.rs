//! Shared helpers for spin-host's black-box tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use testkit::Host;

/// The fixture manifest.
pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/spin.toml")
}

/// Starts a host for the fixture app. Starts are serialised across test
/// processes with a file lock so that the first one fills the compilation
/// cache and the others start fast (no 60s timeout while 2 cores compile 5x).
pub fn start(variables: &[(&str, &str)], env: &[(&str, &str)]) -> Host {
    start_manifest(&manifest(), variables, env)
}

/// Like [`start`] for another manifest.
pub fn start_manifest(
    manifest: &std::path::Path,
    variables: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Host {
    one_start_at_a_time(|| Host::start(manifest, variables, env))
}

/// Runs `start` while holding the file lock that serialises host starts.
fn one_start_at_a_time<T>(start: impl FnOnce() -> T) -> T {
    let lock_path = testkit::workspace_root().join("target/spin-host-tests.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("open lock file");
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor we own; released when `lock` drops.
    unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    let started = start();
    drop(lock);
    started
}

/// A running host: where to send requests, and what it has printed.
pub trait Served {
    /// `http://127.0.0.1:<port>`.
    fn base_url(&self) -> String;
    /// The host's stdout and stderr so far.
    fn output(&self) -> String;
}

impl Served for Host {
    fn base_url(&self) -> String {
        Host::base_url(self)
    }
    fn output(&self) -> String {
        Host::output(self)
    }
}

/// GET `path`, returning (status, body).
pub fn get(host: &impl Served, path: &str) -> (u16, String) {
    let resp = testkit::agent()
        .get(format!("{}{path}", host.base_url()))
        .call()
        .expect("request failed");
    read(resp)
}

/// POST `body` to `path` with extra headers, returning (status, body).
pub fn post(host: &impl Served, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut req = testkit::agent().post(format!("{}{path}", host.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send(body).expect("request failed"))
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, String) {
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// Waits (up to 5 s) until the host's captured output contains `needle`;
/// output is captured by a background thread, so it may lag the response.
pub fn output_contains(host: &impl Served, needle: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if host.output().contains(needle) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// The fixture manifest for selective deployment.
pub fn selective_manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/selective.toml")
}

/// A host started with extra command-line arguments, which testkit's
/// [`Host`] does not take (`--component-id`). Its output goes to a file; it
/// is killed on drop.
pub struct ArgsHost {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
}

impl Served for ArgsHost {
    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ArgsHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Starts `spin-host up -f <manifest> --listen 127.0.0.1:<free> <args>` with
/// `env` (and without the caller's `SPIN_COMPONENTS_TO_RETAIN`). `Ok` once
/// `/.well-known/spin/health` answers 200; `Err` with the host's output when
/// it exits first or is not healthy within 60 s.
pub fn try_start(
    manifest: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<ArgsHost, String> {
    one_start_at_a_time(|| {
        let port = testkit::free_port();
        let log = testkit::workspace_root().join(format!(
            "target/spin-host-test-{}-{port}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&log).expect("create log file");
        let no_variables: &[(&str, &str)] = &[];
        let mut cmd = testkit::host_command(&testkit::host_bin(), manifest, port, no_variables);
        cmd.args(args)
            .env_remove("RUST_BACKTRACE")
            .env_remove("SPIN_COMPONENTS_TO_RETAIN")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("clone log file"))
            .stderr(file);
        let child = cmd.spawn().expect("start spin-host");
        let mut host = ArgsHost { child, port, log };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(Some(_)) = host.child.try_wait() {
                return Err(host.output());
            }
            let healthy = testkit::agent()
                .get(format!("{}/.well-known/spin/health", host.base_url()))
                .call()
                .is_ok_and(|r| r.status() == 200);
            if healthy {
                return Ok(host);
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("not healthy within 60s:\n{}", host.output()));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    })
}
