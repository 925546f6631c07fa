//! SpinKube in a box on the dev overlay: what `kubectl apply -k` would send,
//! run as spin-operator and the shim would run it. It serves the routes, and
//! each planted deployment fault shows: a missing variable, a component left
//! out, a route to the wrong SpinApp, a chain across SpinApps.

use spinkube_box::SpinKubeBox;
use spinkube_box::manifests::Manifests;
use std::path::PathBuf;
use std::process::Command;

/// The dev overlay rendered (its git-ignored credentials written first, as
/// `make deploy ENV=dev` does).
fn dev() -> Manifests {
    let root = testkit::workspace_root();
    let ok = Command::new("bash")
        .arg(root.join("spinkube/scripts/create-secrets.sh"))
        .arg("dev")
        .output()
        .expect("run create-secrets.sh")
        .status
        .success();
    assert!(ok, "create-secrets.sh dev failed");
    Manifests::render(&root.join("spinkube/overlays/dev")).expect("render dev")
}

/// The object of `kind` named `name`, to change.
fn object<'a>(m: &'a mut Manifests, kind: &str, name: &str) -> &'a mut serde_json::Value {
    m.objects
        .iter_mut()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Status and body of a request through the box's gateway.
fn call(sk: &SpinKubeBox, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let url = format!("{}{path}", sk.base_url());
    let agent = testkit::agent();
    let r = match method {
        "GET" => agent.get(&url).call(),
        _ => agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body),
    };
    let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn the_dev_overlay_serves_its_public_routes_and_hides_the_private_one() {
    let sk = SpinKubeBox::start_rendered(dev()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        call(&sk, "GET", "/api/menu/", b"").0,
        200,
        "{}",
        sk.output()
    );
    assert_eq!(call(&sk, "GET", "/api/openapi.json", b"").0, 200);
    assert_eq!(call(&sk, "GET", "/api/order/branch/", b"").0, 200);
    // The admin SpinApp, with its own role and database URL.
    let (status, body) = call(&sk, "GET", "/api/admin/healthz", b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""admin":"ok""#), "{body}");
    let (status, body) = call(&sk, "POST", "/api/admin/branches/", br#"{"bran_id":"9"}"#);
    assert_eq!(status, 401, "{body}");
    let (status, body) = call(&sk, "POST", "/api/login/", br#"{"id":"nobody","pw":"x"}"#);
    assert_eq!(status, 401, "{body}");
    // login-verify is deployed in the login SpinApp but has no route.
    let verify = call(
        &sk,
        "POST",
        "/api/login/int/auth/verify",
        br#"{"token":"x"}"#,
    );
    assert_eq!(verify.0, 404, "{}", verify.1);
    assert_eq!(call(&sk, "GET", "/nowhere", b"").0, 404);
}

#[test]
fn an_oversized_body_gets_413_through_the_gateway_not_502() {
    let sk = SpinKubeBox::start_rendered(dev()).unwrap_or_else(|e| panic!("{e}"));
    // Under the 1 MiB the app reads past its limit, so that a gateway can finish
    // sending before the 413 comes back.
    for size in [70_000, 200_000, 1_000_000].repeat(10) {
        let body = vec![b'a'; size];
        let (status, text) = call(&sk, "POST", "/api/login/register/", &body);
        assert_eq!(status, 413, "{text}\nrouter:\n{}", sk.router.log());
    }
}

#[test]
fn a_missing_variable_keeps_the_spinapp_from_starting() {
    let mut m = dev();
    let login = object(&mut m, "SpinApp", "login");
    login["spec"]["variables"]
        .as_array_mut()
        .unwrap()
        .retain(|v| v["name"] != "jwt_secret");
    let err = SpinKubeBox::start_rendered(m)
        .err()
        .expect("started without jwt_secret");
    assert!(
        err.contains("SpinApp login") && err.contains("jwt_secret"),
        "{err}"
    );
}

#[test]
fn a_component_left_out_is_404() {
    let mut m = dev();
    let menu = object(&mut m, "SpinApp", "menu");
    menu["spec"]["components"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c != "menu-list");
    let sk = SpinKubeBox::start_rendered(m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&sk, "GET", "/api/menu/", b"").0, 404);
    assert_eq!(call(&sk, "GET", "/api/menu/types/", b"").0, 200);
}

#[test]
fn a_route_to_the_wrong_spinapp_is_404() {
    let mut m = dev();
    // dev routes through KEDA's interceptor: the menu's paths lead to order's pods.
    let scaled = object(&mut m, "HTTPScaledObject", "menu");
    scaled["spec"]["scaleTargetRef"]["service"] = "order".into();
    let sk = SpinKubeBox::start_rendered(m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&sk, "GET", "/api/menu/", b"").0, 404);
    // And a route straight to a SpinApp's Service (as stg and prod route).
    let mut m = dev();
    let route = object(&mut m, "HTTPRoute", "order");
    route["spec"]["rules"][0]["backendRefs"] = serde_json::json!([{"name": "login", "port": 80}]);
    let sk = SpinKubeBox::start_rendered(m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&sk, "GET", "/api/order/branch/", b"").0, 404);
}

#[test]
fn a_chain_across_spinapps_keeps_the_spinapp_from_starting() {
    // order-history calling login-verify, which runs in the login SpinApp.
    let root = testkit::workspace_root();
    let app = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let plain = "order_history.wasm\"\nallowed_outbound_hosts = [\"postgres://{{ db_host }}\"]";
    assert!(app.contains(plain), "spin.toml changed: update this test");
    let chained = app
        .replace(
            plain,
            "order_history.wasm\"\nallowed_outbound_hosts = [\"postgres://{{ db_host }}\", \"http://login-verify.spin.internal\"]",
        )
        .replace("source = \"target/", &format!("source = \"{}/target/", root.display()));
    let dir = root.join("target/spinkube-box");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("chained-{}.toml", std::process::id()));
    std::fs::write(&path, chained).unwrap();
    let err = SpinKubeBox::start_app(dev(), &path)
        .err()
        .expect("started with a chain to another SpinApp");
    assert!(
        err.contains("SpinApp order") && err.contains("service chaining"),
        "{err}"
    );
}
