//! The gateway: nginx configured from the rendered `HTTPRoute`s, as NGINX
//! Gateway Fabric turns them into nginx configuration. Each rule's path
//! matches become locations with Gateway API's precedence (an exact path
//! first, then the longest prefix; `PathPrefix` matches whole path
//! elements), its `backendRefs` an upstream of the Services' pods weighted
//! as written (weight 0 takes no traffic; all 0 answers 500), and a path no
//! route matches gets 404. Hostnames are not told apart: the box serves one
//! overlay. In front of it is a trusted edge: the client's
//! `X-Forwarded-For` is taken as its address, and the gateway appends it as a
//! real one would, so the app sees one hop (`trusted_proxy_hops` 1).

use crate::keda;
use crate::manifests::Manifests;
use crate::services::Services;
use serde_json::Value;
use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx routing to the SpinApps' hosts.
pub struct Router {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Where `scripts/nginx.sh` puts Debian's nginx.
fn nginx_bin() -> PathBuf {
    testkit::workspace_root().join("target/tools/nginx/usr/sbin/nginx")
}

impl Router {
    /// Starts nginx on a free port with the configuration [`nginx_conf`]
    /// builds; `services` says where each Service's pods are served.
    pub fn start(manifests: &Manifests, services: &Services) -> Result<Router, String> {
        let bin = nginx_bin();
        if !bin.exists() {
            return Err(format!(
                "{} is missing: run `bash scripts/nginx.sh`",
                bin.display()
            ));
        }
        let dir = std::env::temp_dir().join(format!(
            "spinkube-box-router-{}-{}",
            std::process::id(),
            testkit::free_port()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let port = testkit::free_port();
        let mut services = services.clone();
        let mut extra = String::new();
        if keda::uses_interceptor(manifests) {
            let interceptor = testkit::free_port();
            extra = keda::interceptor_server(manifests, &services, interceptor)?;
            services.add(
                keda::INTERCEPTOR_SERVICE,
                "keda",
                8080,
                &format!("127.0.0.1:{interceptor}"),
            );
        }
        let conf = nginx_conf(manifests, &services, port, &dir)?
            .replace(END_OF_HTTP, &(extra + END_OF_HTTP));
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("error.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&bin)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start nginx: {e}"))?;
        let mut router = Router { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = router.child.try_wait() {
                return Err(format!("nginx exited ({status}):\n{}", router.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("nginx did not listen:\n{}", router.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(router)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// nginx's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The end of the `http` block, where more servers go.
const END_OF_HTTP: &str = "}\n# end of http\n";

/// One location: how nginx matches it (`=` or `^~`), its path, its upstream.
struct Location {
    modifier: &'static str,
    path: String,
    upstream: usize,
}

/// The nginx configuration for every `HTTPRoute` of `manifests`, listening
/// on `127.0.0.1:<port>`, with its temporary files under `dir`. An error
/// names a route the box cannot serve as a gateway would (a backend with no
/// Service, a match it does not support, the same path twice).
pub fn nginx_conf(
    manifests: &Manifests,
    services: &Services,
    port: u16,
    dir: &Path,
) -> Result<String, String> {
    let mut upstreams: Vec<Vec<(String, u64)>> = Vec::new();
    let mut locations: Vec<Location> = Vec::new();
    for route in manifests.of_kind("HTTPRoute") {
        let name = route["metadata"]["name"].as_str().unwrap_or_default();
        for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
            let upstream = upstreams.len();
            upstreams.push(backends(manifests, route, rule, services)?);
            let default_match = [serde_json::json!({"path": {"type": "PathPrefix", "value": "/"}})];
            let matches = match rule["matches"].as_array() {
                Some(m) if !m.is_empty() => m.as_slice(),
                _ => &default_match,
            };
            for m in matches {
                for (modifier, path) in locations_of(name, m)? {
                    if locations
                        .iter()
                        .any(|l| l.modifier == modifier && l.path == path)
                    {
                        return Err(format!("HTTPRoute {name}: path {path} is routed twice"));
                    }
                    locations.push(Location {
                        modifier,
                        path,
                        upstream,
                    });
                }
            }
        }
    }
    let d = dir.display();
    let mut conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nevents {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_max_body_size 0;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  \
         proxy_http_version 1.1;\n  proxy_set_header Connection \"\";\n  proxy_set_header Host $http_host;\n  \
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n  proxy_buffering off;\n"
    );
    for (i, servers) in upstreams.iter().enumerate() {
        if servers.iter().all(|(_, w)| *w == 0) {
            continue;
        }
        let _ = writeln!(conf, "  upstream backend{i} {{");
        for (address, weight) in servers.iter().filter(|(_, w)| *w > 0) {
            let _ = writeln!(conf, "    server {address} weight={weight};");
        }
        let _ = writeln!(conf, "    keepalive 64;\n  }}");
    }
    let _ = writeln!(
        conf,
        "  server {{\n    listen 127.0.0.1:{port};\n    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;"
    );
    for l in &locations {
        let target = if upstreams[l.upstream].iter().all(|(_, w)| *w == 0) {
            "return 500;".to_owned()
        } else {
            format!("proxy_pass http://backend{};", l.upstream)
        };
        let _ = writeln!(
            conf,
            "    location {} {} {{ {target} }}",
            l.modifier, l.path
        );
    }
    if !locations
        .iter()
        .any(|l| l.modifier == "^~" && l.path == "/")
    {
        let _ = writeln!(conf, "    location / {{ return 404; }}");
    }
    conf.push_str("  }\n");
    conf.push_str(END_OF_HTTP);
    Ok(conf)
}

/// A rule's weighted backends as `127.0.0.1:port` of the hosts serving
/// their Services (weight 1 when unset, as Gateway API says). A backend in
/// another namespace needs a `ReferenceGrant` there, or the gateway refuses it.
fn backends(
    manifests: &Manifests,
    route: &Value,
    rule: &Value,
    services: &Services,
) -> Result<Vec<(String, u64)>, String> {
    let name = route["metadata"]["name"].as_str().unwrap_or_default();
    let own_ns = route["metadata"]["namespace"].as_str().unwrap_or_default();
    let refs = rule["backendRefs"].as_array().cloned().unwrap_or_default();
    if refs.is_empty() {
        return Err(format!("HTTPRoute {name}: a rule without backendRefs"));
    }
    refs.iter()
        .map(|r| {
            let service = r["name"].as_str().unwrap_or_default();
            if r["kind"].as_str().is_some_and(|k| k != "Service") {
                return Err(format!("HTTPRoute {name}: backend kind {} unsupported", r["kind"]));
            }
            if let Some(ns) = r["namespace"].as_str().filter(|ns| *ns != own_ns)
                && !granted(manifests, own_ns, ns, service)
            {
                return Err(format!(
                    "HTTPRoute {name}: backend {ns}/{service} is not granted by a ReferenceGrant in {ns}"
                ));
            }
            let address = services.local(service).ok_or_else(|| {
                format!("HTTPRoute {name}: backend Service {service} has no pods here")
            })?;
            Ok((address.to_owned(), r["weight"].as_u64().unwrap_or(1)))
        })
        .collect()
}

/// Whether a `ReferenceGrant` in `target_ns` lets HTTPRoutes of `from_ns`
/// reach Service `service`.
fn granted(manifests: &Manifests, from_ns: &str, target_ns: &str, service: &str) -> bool {
    manifests
        .of_kind("ReferenceGrant")
        .filter(|g| g["metadata"]["namespace"] == target_ns)
        .any(|g| {
            let from = g["spec"]["from"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f["kind"] == "HTTPRoute" && f["namespace"] == from_ns);
            let to =
                g["spec"]["to"].as_array().into_iter().flatten().any(|t| {
                    t["kind"] == "Service" && (t["name"].is_null() || t["name"] == service)
                });
            from && to
        })
}

/// nginx locations for one match: `Exact` as `= path`; `PathPrefix` as
/// `^~ prefix/` plus `= prefix` (whole path elements only), `/` as `^~ /`.
fn locations_of(route: &str, m: &Value) -> Result<Vec<(&'static str, String)>, String> {
    for unsupported in ["headers", "queryParams", "method"] {
        if !m[unsupported].is_null() {
            return Err(format!(
                "HTTPRoute {route}: {unsupported} matches are not supported here"
            ));
        }
    }
    let path = &m["path"];
    let value = path["value"].as_str().unwrap_or("/");
    if value.contains(['{', '}', ';', ' ', '"', '\'']) {
        return Err(format!("HTTPRoute {route}: path {value:?}"));
    }
    match path["type"].as_str().unwrap_or("PathPrefix") {
        "Exact" => Ok(vec![("=", value.to_owned())]),
        "PathPrefix" if value == "/" => Ok(vec![("^~", "/".to_owned())]),
        "PathPrefix" => {
            let trimmed = value.trim_end_matches('/');
            Ok(vec![
                ("=", trimmed.to_owned()),
                ("^~", format!("{trimmed}/")),
            ])
        }
        other => Err(format!(
            "HTTPRoute {route}: path type {other} is not supported here"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: pizza}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /api/login}}]
      backendRefs: [{name: login, port: 80}]
    - matches: [{path: {type: Exact, value: /api/openapi.json}}]
      backendRefs: [{name: menu, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /api/order/}}]
      backendRefs: [{name: django-order, port: 8000, weight: 90}, {name: order, port: 80, weight: 10}]
";

    fn services() -> Services {
        let mut s = Services::default();
        for (name, port) in [("login", 1), ("menu", 2), ("order", 3), ("django-order", 4)] {
            s.add(name, "ns", 80, &format!("127.0.0.1:{port}"));
        }
        s
    }

    #[test]
    fn routes_become_locations_and_weighted_upstreams() {
        let m = Manifests::parse(ROUTES).unwrap();
        let conf = nginx_conf(&m, &services(), 9, Path::new("/t")).unwrap();
        for line in [
            "location = /api/login { proxy_pass http://backend0; }",
            "location ^~ /api/login/ { proxy_pass http://backend0; }",
            "location = /api/openapi.json { proxy_pass http://backend1; }",
            "location ^~ /api/order/ { proxy_pass http://backend2; }",
            "server 127.0.0.1:4 weight=90;",
            "server 127.0.0.1:3 weight=10;",
            "location / { return 404; }",
            "listen 127.0.0.1:9;",
        ] {
            assert!(conf.contains(line), "{line} missing from\n{conf}");
        }
    }

    #[test]
    fn a_backend_in_another_namespace_needs_a_reference_grant() {
        let route = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  rules:
    - backendRefs: [{name: login, namespace: other, port: 80}]
";
        let grant = "\
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app}]
  to: [{group: '', kind: Service}]
";
        let refused = Manifests::parse(route).unwrap();
        let err = nginx_conf(&refused, &services(), 9, Path::new("/t")).unwrap_err();
        assert!(err.contains("ReferenceGrant"), "{err}");
        let granted = Manifests::parse(&format!("{route}{grant}")).unwrap();
        assert!(nginx_conf(&granted, &services(), 9, Path::new("/t")).is_ok());
    }

    #[test]
    fn a_backend_without_pods_is_refused() {
        let m = Manifests::parse(ROUTES).unwrap();
        let mut s = Services::default();
        s.add("login", "ns", 80, "127.0.0.1:1");
        let err = nginx_conf(&m, &s, 9, Path::new("/t")).unwrap_err();
        assert!(err.contains("menu"), "{err}");
    }
}
