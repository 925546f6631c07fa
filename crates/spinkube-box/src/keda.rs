//! KEDA's HTTP add-on, here: its interceptor proxy routes a request to the
//! Service of the `HTTPScaledObject` whose `pathPrefixes` match it (the
//! longest; scale from zero is instant here, as the pods already run). The
//! overlay's routes reach it as a backend in KEDA's namespace. Like the real
//! one, it appends its peer to `X-Forwarded-For` (one more trusted hop).

use crate::manifests::Manifests;
use crate::services::Services;
use std::fmt::Write as _;

/// KEDA's interceptor Service (it lives in KEDA's namespace, `keda`).
pub const INTERCEPTOR_SERVICE: &str = "keda-add-ons-http-interceptor-proxy";

/// Whether the overlay scales with KEDA's HTTP add-on (it has
/// `HTTPScaledObject`s), so that the interceptor must run.
pub fn uses_interceptor(manifests: &Manifests) -> bool {
    manifests.of_kind("HTTPScaledObject").next().is_some()
}

/// The nginx configuration of the interceptor on `127.0.0.1:<port>` (an
/// upstream per target and a `server`): one `^~` location per path prefix
/// (nginx picks the longest) to the target Service's pods; anything else 404.
pub fn interceptor_server(
    manifests: &Manifests,
    services: &Services,
    port: u16,
) -> Result<String, String> {
    let mut upstreams = String::new();
    let mut block = format!("  server {{\n    listen 127.0.0.1:{port};\n");
    for (i, scaled) in manifests.of_kind("HTTPScaledObject").enumerate() {
        let name = scaled["metadata"]["name"].as_str().unwrap_or_default();
        let service = scaled["spec"]["scaleTargetRef"]["service"]
            .as_str()
            .unwrap_or_default();
        let address = services.local(service).ok_or_else(|| {
            format!("HTTPScaledObject {name}: Service {service} has no pods here")
        })?;
        let _ = writeln!(
            upstreams,
            "  upstream keda{i} {{\n    server {address};\n    keepalive 16;\n  }}"
        );
        for prefix in scaled["spec"]["pathPrefixes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let prefix = prefix.as_str().unwrap_or("/");
            let _ = writeln!(
                block,
                "    location ^~ {prefix} {{ proxy_pass http://keda{i}; }}"
            );
        }
    }
    block.push_str("    location / { return 404; }\n  }\n");
    Ok(upstreams + &block)
}
