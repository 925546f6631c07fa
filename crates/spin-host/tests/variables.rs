//! Application/component variables and their providers.

mod common;

use common::get;

#[test]
fn variables_resolve_with_precedence() {
    let host = common::start(
        &[("greeting", "from-cli")],
        &[
            ("SPIN_VARIABLE_GREETING", "from-env"),
            ("SPIN_VARIABLE_TOKEN", "env-token"),
        ],
    );
    assert_eq!(
        get(&host, "/vars/greeting"),
        (200, "Ok(\"from-cli world\")".into())
    );
    assert_eq!(get(&host, "/vars/token"), (200, "Ok(\"env-token\")".into()));
    assert_eq!(
        get(&host, "/vars/upstream"),
        (
            200,
            "Err(Error::Undefined(\"no variable for \\\"vars\\\".\\\"upstream\\\"\"))".into()
        )
    );
    assert_eq!(
        get(&host, "/vars/Bad-Name"),
        (200, "Err(Error::InvalidName(\"\\\"Bad-Name\\\": invalid character 'B'. Variable names may contain only lower-case letters, numbers, and underscores.\"))".into())
    );
    assert_eq!(
        get(&host, "/vars/env/FX_ENV"),
        (200, "Some(\"from-manifest\")".into())
    );
}

#[test]
fn defaults_apply() {
    let host = common::start(&[], &[]);
    assert_eq!(
        get(&host, "/vars/greeting"),
        (200, "Ok(\"hello world\")".into())
    );
}

fn temp_manifest(
    extra_vars: &str,
    component_vars: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "spin-host-vars-{}-{}",
        std::process::id(),
        testkit::free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = testkit::workspace_root().join("target/wasm32-wasip2/release/fx_vars.wasm");
    let toml = format!(
        "spin_manifest_version = 2\n[application]\nname = \"v\"\n[variables]\n{extra_vars}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"vars\"\n[component.vars]\nsource = {:?}\n[component.vars.variables]\n{component_vars}\n",
        wasm.display().to_string()
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, toml).unwrap();
    (dir, path)
}

fn run_host(manifest: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(testkit::host_bin())
        .args(["up", "--no-cache", "--listen"])
        .arg(format!("127.0.0.1:{}", testkit::free_port()))
        .arg("-f")
        .arg(manifest)
        .envs(env.iter().copied())
        .env_remove("SPIN_VARIABLE_JWT_SECRET")
        .output()
        .unwrap()
}

#[test]
fn missing_required_variable_exits_1() {
    let (dir, path) = temp_manifest("jwt_secret = { required = true, secret = true }", "");
    let out = run_host(&path, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no provider resolved required variable(s): [Key(\"jwt_secret\")]"),
        "{stderr}"
    );
    // .env in the app dir is a provider.
    std::fs::write(dir.join(".env"), "SPIN_VARIABLE_JWT_SECRET=z\n").unwrap();
    let host = common::start_manifest(&path, &[], &[]);
    assert_eq!(
        get(&host, "/vars/nothing"),
        (
            200,
            "Err(Error::Undefined(\"no variable for \\\"vars\\\".\\\"nothing\\\"\"))".into()
        )
    );
    drop(host);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn invalid_declarations_are_rejected() {
    let (dir, path) = temp_manifest("a = { required = true, default = \"x\" }", "");
    let out = run_host(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must be `required` OR have a `default`")
    );
    std::fs::remove_dir_all(dir).ok();
    let (dir, path) = temp_manifest("a = { default = \"x\" }", "b = \"{{ nope }}\"");
    let out = run_host(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("invalid variable template: unknown variable \"nope\"")
    );
    std::fs::remove_dir_all(dir).ok();
}
