//! What a SpinApp's pod gets, computed as spin-operator computes it
//! (`ConstructEnvForApp` in `internal/controller/deployment.go`) and resolved
//! as the kubelet resolves it: every `variables` entry as
//! `SPIN_VARIABLE_<NAME>` (its `value`, or the Secret or ConfigMap key of its
//! `valueFrom`), `invocationLimits.memory` as `SPIN_MAX_INSTANCE_MEMORY` in
//! bytes, and `components` as the shim's `SPIN_COMPONENTS_TO_RETAIN`.

use crate::manifests::Manifests;
use serde_json::Value;

/// The environment of one SpinApp's pod.
#[derive(Clone, Debug)]
pub struct PodEnv {
    /// The SpinApp's name.
    pub app: String,
    /// `(name, value)` pairs, in the operator's order.
    pub vars: Vec<(String, String)>,
}

impl PodEnv {
    /// The pod environment of SpinApp `app`. An error is what would keep the
    /// pod from starting (a missing Secret or key, a bad quantity).
    pub fn of(manifests: &Manifests, app: &str) -> Result<PodEnv, String> {
        let spin_app = manifests
            .get("SpinApp", app)
            .ok_or_else(|| format!("SpinApp {app} is not rendered"))?;
        let spec = &spin_app["spec"];
        let mut vars = Vec::new();
        for variable in spec["variables"].as_array().into_iter().flatten() {
            let name = variable["name"].as_str().unwrap_or_default();
            let value = resolve(manifests, variable)
                .map_err(|e| format!("SpinApp {app}: variable {name}: {e}"))?;
            vars.push((format!("SPIN_VARIABLE_{}", name.to_uppercase()), value));
        }
        if let Some(memory) = spec["invocationLimits"]["memory"].as_str() {
            let bytes = quantity_bytes(memory)
                .ok_or_else(|| format!("SpinApp {app}: invocationLimits.memory {memory:?}"))?;
            vars.push(("SPIN_MAX_INSTANCE_MEMORY".into(), bytes.to_string()));
        }
        if let Some(components) = spec["components"].as_array() {
            let ids: Vec<&str> = components.iter().filter_map(Value::as_str).collect();
            vars.push(("SPIN_COMPONENTS_TO_RETAIN".into(), ids.join(",")));
        }
        Ok(PodEnv {
            app: app.to_owned(),
            vars,
        })
    }

    /// The value of variable `name` (`SPIN_VARIABLE_` and upper case added).
    pub fn variable(&self, name: &str) -> Option<&str> {
        let key = format!("SPIN_VARIABLE_{}", name.to_uppercase());
        self.vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A container's `env`, resolved as the kubelet resolves it (see [`resolve`]);
/// an error is what would keep the container from starting.
pub fn container_env(
    manifests: &Manifests,
    container: &Value,
) -> Result<Vec<(String, String)>, String> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let name = entry["name"].as_str().unwrap_or_default().to_owned();
            let value = resolve(manifests, entry).map_err(|e| format!("env {name}: {e}"))?;
            Ok((name, value))
        })
        .collect()
}

/// A `variables` or `env` entry's value: `value`, or `valueFrom`'s Secret or
/// ConfigMap key (an `optional` one that is missing gives "").
fn resolve(manifests: &Manifests, variable: &Value) -> Result<String, String> {
    if let Some(value) = variable["value"].as_str() {
        return Ok(value.to_owned());
    }
    let from = &variable["valueFrom"];
    let (reference, found) = if from["secretKeyRef"].is_object() {
        let r = &from["secretKeyRef"];
        (
            r,
            manifests.secret_value(str_of(r, "name"), str_of(r, "key")),
        )
    } else if from["configMapKeyRef"].is_object() {
        let r = &from["configMapKeyRef"];
        (
            r,
            manifests.config_map_value(str_of(r, "name"), str_of(r, "key")),
        )
    } else {
        return Ok(String::new());
    };
    match found {
        Err(_) if reference["optional"] == true => Ok(String::new()),
        other => other,
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Bytes in a Kubernetes quantity (`128Mi`, `1G`, `500k`, `1048576`), as
/// `resource.ParseQuantity(...).Value()` gives them; None if not one.
pub fn quantity_bytes(quantity: &str) -> Option<u64> {
    const SUFFIXES: [(&str, u64); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    let (digits, factor) = SUFFIXES
        .iter()
        .find_map(|(s, f)| quantity.strip_suffix(s).map(|d| (d, *f)))
        .unwrap_or((quantity, 1));
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "\
apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata: {name: login}
spec:
  components: [login-login, login-verify]
  invocationLimits: {memory: 160Mi}
  variables:
    - {name: trusted_proxy_hops, value: '1'}
    - name: jwt_secret
      valueFrom: {secretKeyRef: {name: jwt, key: jwt_secret}}
    - name: db_host
      valueFrom: {configMapKeyRef: {name: cfg, key: db_host}}
---
apiVersion: v1
kind: Secret
metadata: {name: jwt}
stringData: {jwt_secret: s3cret}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {db_host: 'pg:5432'}
";

    #[test]
    fn the_pod_gets_what_the_operator_sets() {
        let m = Manifests::parse(APP).unwrap();
        let env = PodEnv::of(&m, "login").unwrap();
        let vars: Vec<(&str, &str)> = env
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            vars,
            [
                ("SPIN_VARIABLE_TRUSTED_PROXY_HOPS", "1"),
                ("SPIN_VARIABLE_JWT_SECRET", "s3cret"),
                ("SPIN_VARIABLE_DB_HOST", "pg:5432"),
                ("SPIN_MAX_INSTANCE_MEMORY", "167772160"),
                ("SPIN_COMPONENTS_TO_RETAIN", "login-login,login-verify"),
            ]
        );
        assert_eq!(env.variable("db_host"), Some("pg:5432"));
    }

    #[test]
    fn a_missing_secret_keeps_the_pod_from_starting() {
        let yaml = APP.replace("name: jwt}", "name: gone}");
        let m = Manifests::parse(&yaml).unwrap();
        let err = PodEnv::of(&m, "login").unwrap_err();
        assert!(
            err.contains("jwt_secret") && err.contains("not found"),
            "{err}"
        );
    }

    #[test]
    fn quantities_in_bytes() {
        assert_eq!(quantity_bytes("128Mi"), Some(134_217_728));
        assert_eq!(quantity_bytes("1G"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("4096"), Some(4096));
        assert_eq!(quantity_bytes("lots"), None);
    }
}
