//! Selective deployment: only the components named by `--component-id`
//! (`spin up`) or `SPIN_COMPONENTS_TO_RETAIN` (containerd-shim-spin, set by
//! spin-operator from a SpinApp's `components`) are loaded; the checks and
//! error texts are those of `spin_app::retain_components` and
//! `validate_service_chaining_for_components` in Spin 3.6.3.

mod common;

use common::{Served, get, output_contains, post, selective_manifest, try_start};

/// The one-line startup error of a host that must not start.
fn startup_error(args: &[&str], env: &[(&str, &str)]) -> String {
    match try_start(&selective_manifest(), args, env) {
        Ok(host) => panic!("the host started:\n{}", host.output()),
        Err(output) => output.trim().to_string(),
    }
}

#[test]
fn without_a_selection_every_component_is_loaded() {
    let err = startup_error(&[], &[]);
    assert!(
        err.starts_with("spin-host: error: failed to load component \"unbuilt\""),
        "{err}"
    );
}

#[test]
fn env_var_serves_only_the_retained_components() {
    let host = try_start(
        &selective_manifest(),
        &[],
        &[("SPIN_COMPONENTS_TO_RETAIN", "echo,front,back")],
    )
    .unwrap_or_else(|out| panic!("{out}"));
    let (status, body) = get(&host, "/echo/x");
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&host, "/front", &[], "http://back.spin.internal/b");
    assert_eq!(status, 200);
    assert!(body.starts_with("200\n"), "{body}");
    // Triggers of components left out are gone: Spin's generic 404.
    for path in ["/wild", "/templated", "/unbuilt/x"] {
        assert_eq!(get(&host, path), (404, String::new()), "{path}");
    }
    assert!(output_contains(&host, "  front: http://127.0.0.1:"));
    let out = host.output();
    assert!(
        !out.contains("  wild:") && !out.contains("  templated:"),
        "{out}"
    );
}

#[test]
fn component_id_flag_serves_only_the_retained_components() {
    // `spin up` reads no SPIN_COMPONENTS_TO_RETAIN: the flag decides.
    let host = try_start(
        &selective_manifest(),
        &["--component-id", "templated", "-c", "back"],
        &[("SPIN_COMPONENTS_TO_RETAIN", "echo")],
    )
    .unwrap_or_else(|out| panic!("{out}"));
    let (status, body) = post(&host, "/templated", &[], "http://back.spin.internal/t");
    assert_eq!(status, 200);
    assert!(body.starts_with("200\n"), "{body}");
    for path in ["/echo/x", "/front", "/wild", "/unbuilt/x"] {
        assert_eq!(get(&host, path), (404, String::new()), "{path}");
    }
}

#[test]
fn unknown_component_id_fails_startup() {
    assert_eq!(
        startup_error(&["-c", "echo", "-c", "nope"], &[]),
        "spin-host: error: failed to resolve application with only components selected with --component: Specified component \"nope\" not found in application"
    );
    // Like the shim: split at commas, nothing trimmed.
    assert_eq!(
        startup_error(&[], &[("SPIN_COMPONENTS_TO_RETAIN", "echo, back")]),
        "spin-host: error: failed to resolve application with only [[\"echo\", \" back\"]] components retained by configured environment variable SPIN_COMPONENTS_TO_RETAIN: Specified component \" back\" not found in application"
    );
}

#[test]
fn chaining_to_an_unselected_component_fails_startup() {
    assert_eq!(
        startup_error(&["-c", "echo", "-c", "front"], &[]),
        "spin-host: error: failed to resolve application with only components selected with --component: Selected component 'front' cannot use service chaining to unselected component: allowed_outbound_hosts = [\"http://back.spin.internal\"]"
    );
    // A wildcard names components the selection may lack, so Spin refuses it
    // whatever is selected.
    assert_eq!(
        startup_error(&[], &[("SPIN_COMPONENTS_TO_RETAIN", "wild,back")]),
        "spin-host: error: failed to resolve application with only [[\"wild\", \"back\"]] components retained by configured environment variable SPIN_COMPONENTS_TO_RETAIN: Selected component 'wild' cannot use wildcard service chaining: allowed_outbound_hosts = [\"http://*.spin.internal\"]"
    );
}

#[test]
fn templated_chain_to_an_unselected_component_traps_at_request_time() {
    // Spin's check skips templated hosts; the request then finds no such
    // component and the host call traps the guest.
    let host = try_start(&selective_manifest(), &["-c", "templated"], &[])
        .unwrap_or_else(|out| panic!("{out}"));
    assert_eq!(
        post(&host, "/templated", &[], "http://back.spin.internal/t"),
        (500, String::new())
    );
    assert!(
        output_contains(&host, "unknown routing destination 'back'"),
        "{}",
        host.output()
    );
}

#[test]
fn a_selection_without_triggers_fails_startup() {
    assert_eq!(
        startup_error(&["-c", "untriggered"], &[]),
        "spin-host: error: No triggers in app"
    );
}
