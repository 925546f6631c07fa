//! A fatal error reaches the operator as one line, with every cause on it;
//! `RUST_BACKTRACE` brings back the full multi-line report.

use std::process::Command;

fn up_with_missing_manifest(backtrace: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(testkit::host_bin());
    cmd.args([
        "up",
        "-f",
        "/nonexistent/spin.toml",
        "--listen",
        "127.0.0.1:0",
    ])
    .env_remove("RUST_BACKTRACE");
    if let Some(value) = backtrace {
        cmd.env("RUST_BACKTRACE", value);
    }
    let out = cmd.output().expect("run spin-host");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_fatal_error_is_one_line_with_its_causes() {
    let (ok, stderr) = up_with_missing_manifest(None);
    assert!(!ok);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("spin-host: error: "), "{stderr}");
    assert!(lines[0].contains("/nonexistent/spin.toml"), "{stderr}");
    // The root cause is on the line too, after the context.
    assert!(lines[0].contains(": failed to read"), "{stderr}");
}

#[test]
fn rust_backtrace_asks_for_the_full_report() {
    let (ok, stderr) = up_with_missing_manifest(Some("1"));
    assert!(!ok);
    assert!(stderr.lines().count() > 1, "{stderr}");
    assert!(stderr.contains("Caused by"), "{stderr}");
    let (_, quiet) = up_with_missing_manifest(Some("0"));
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
}
