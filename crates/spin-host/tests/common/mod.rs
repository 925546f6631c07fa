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
    let host = Host::start(manifest, variables, env);
    drop(lock);
    host
}

/// GET `path`, returning (status, body).
pub fn get(host: &Host, path: &str) -> (u16, String) {
    let resp = testkit::agent()
        .get(format!("{}{path}", host.base_url()))
        .call()
        .expect("request failed");
    read(resp)
}

/// POST `body` to `path` with extra headers, returning (status, body).
pub fn post(host: &Host, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
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
pub fn output_contains(host: &Host, needle: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if host.output().contains(needle) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
