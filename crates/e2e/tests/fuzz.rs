//! schemathesis against the running app, driven by its own OpenAPI document:
//! every operation, positive and negative data. The run passes only with no
//! server error, no answer outside the document (status, content type,
//! headers, body schema) and no request left unanswered for 10 s.
//!
//! `make test` runs `FUZZ_EXAMPLES` = 200 examples per operation, `make fuzz`
//! 2,000. schemathesis comes from PyPI into `target/fuzz-venv` (`make fuzz-deps`).

use pizza_e2e::app;
use std::process::Command;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// Runs schemathesis on the app's document with `extra` arguments; panics
/// with the end of its report unless it passed.
fn schemathesis(name: &str, extra: &[&str]) {
    let st = testkit::workspace_root().join("target/fuzz-venv/bin/st");
    assert!(
        st.exists(),
        "schemathesis is not installed: run `make fuzz-deps` (pip install into target/fuzz-venv)"
    );
    let examples = std::env::var("FUZZ_EXAMPLES").unwrap_or_else(|_| "200".into());
    let a = app();
    // schemathesis and hypothesis keep caches in the working directory: target/, not the tree.
    let work = testkit::workspace_root().join("target/fuzz-report");
    std::fs::create_dir_all(&work).expect("create target/fuzz-report");
    let out = Command::new(&st)
        .current_dir(&work)
        .args(["run", &format!("{}/api/openapi.json", a.base_url)])
        .args(["--url", &a.base_url, "--checks", CHECKS, "--mode", "all"])
        .args(["--max-examples", &examples, "--request-timeout", "10"])
        .args(["--seed", "20261201", "--workers", "2", "--no-color"])
        // No example database in the working tree: every run starts from the seed.
        .args(["--generation-database", "none"])
        .args(extra)
        .arg("--report-dir")
        .arg(
            testkit::workspace_root()
                .join("target/fuzz-report")
                .join(name),
        )
        .args(["--report", "junit"])
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let tail = lines[lines.len().saturating_sub(60)..].join("\n");
    assert!(
        out.status.success(),
        "schemathesis ({name}) failed ({}):\n{tail}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{tail}");
}

#[test]
fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let (_, _, token) = app().member("fuzz");
    let bearer = format!("Authorization: Bearer {token}");
    // The live-status reads wait up to 25 s for a change of an order (or a
    // queue) the token may see: they get a member of their own, who places no
    // order and runs no kitchen, so every answer comes at once.
    let (_, _, watcher) = app().member("fuzzwatch");
    let watcher = format!("Authorization: Bearer {watcher}");
    let live = ["/api/order/{id}/", "/api/order/queue/"];
    // Every other operation but logout with a member's token; then logout
    // alone, which revokes that token.
    let mut others = vec!["--header", &bearer, "--exclude-path", "/api/login/logout/"];
    let mut waits = vec!["--header", watcher.as_str()];
    for path in live {
        others.extend(["--exclude-path", path]);
        waits.extend(["--include-path", path]);
    }
    schemathesis("operations", &others);
    schemathesis("live-status", &waits);
    schemathesis(
        "logout",
        &["--header", &bearer, "--include-path", "/api/login/logout/"],
    );
}
