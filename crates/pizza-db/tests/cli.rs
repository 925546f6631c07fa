//! How the `pizza-db` binary reports failures: one line on stderr and exit code 1, the full
//! report when backtraces are asked for, and clap's own usage errors.

use std::process::{Command, Output};

/// Runs `pizza-db` against a port nothing listens on, with `RUST_BACKTRACE` as given.
fn run_unreachable(backtrace: Option<&str>) -> Output {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/none",
        testkit::free_port()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pizza-db"));
    cmd.args(["--url", &url, "migrate"])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    if let Some(value) = backtrace {
        cmd.env("RUST_BACKTRACE", value);
    }
    cmd.output().expect("run pizza-db")
}

#[test]
fn an_error_is_one_line_and_exit_code_1() {
    for backtrace in [None, Some("0"), Some("")] {
        let out = run_unreachable(backtrace);
        assert_eq!(out.status.code(), Some(1), "{backtrace:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{backtrace:?}: {stderr}");
        assert!(
            stderr.starts_with("pizza-db: error: connecting to the database: "),
            "{stderr}"
        );
    }
}

#[test]
fn rust_backtrace_asks_for_the_full_report() {
    let out = run_unreachable(Some("1"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("pizza-db: error: connecting to the database\n"),
        "{stderr}"
    );
    assert!(stderr.contains("Caused by:"), "{stderr}");
}

#[test]
fn usage_errors_are_left_to_clap() {
    let out = Command::new(env!("CARGO_BIN_EXE_pizza-db"))
        .args(["--url", "postgres://localhost/none", "no-such-command"])
        .output()
        .expect("run pizza-db");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: unrecognized subcommand"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage:"), "{stderr}");
}
