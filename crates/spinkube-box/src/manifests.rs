//! An overlay as `kubectl apply -k` would send it: rendered by the real
//! `kubectl kustomize`, parsed into JSON values, looked up by kind and name.

use base64::Engine;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The objects of one rendered overlay.
#[derive(Clone, Debug)]
pub struct Manifests {
    /// Every object, in kustomize's output order.
    pub objects: Vec<Value>,
}

impl Manifests {
    /// Renders `overlay` with `kubectl kustomize`; an error names what failed
    /// (kubectl missing, kustomize's own message, a document that is not YAML).
    pub fn render(overlay: &Path) -> Result<Manifests, String> {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(overlay)
            .output()
            .map_err(|e| {
                format!("kubectl not found ({e}): install kubectl (it carries kustomize)")
            })?;
        if !out.status.success() {
            return Err(format!(
                "kubectl kustomize {}: {}",
                overlay.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Manifests::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Parses a multi-document YAML stream.
    pub fn parse(yaml: &str) -> Result<Manifests, String> {
        let mut objects = Vec::new();
        for document in serde_norway::Deserializer::from_str(yaml) {
            let value: Value = serde::Deserialize::deserialize(document)
                .map_err(|e| format!("rendered YAML: {e}"))?;
            if !value.is_null() {
                objects.push(value);
            }
        }
        Ok(Manifests { objects })
    }

    /// The objects of `kind`.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Value> + use<'a> {
        let kind = kind.to_owned();
        self.objects
            .iter()
            .filter(move |o| o["kind"] == kind.as_str())
    }

    /// The object of `kind` named `name`.
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind).find(|o| o["metadata"]["name"] == name)
    }

    /// The value at `key` of ConfigMap `name`, as the kubelet reads it.
    pub fn config_map_value(&self, name: &str, key: &str) -> Result<String, String> {
        let map = self
            .get("ConfigMap", name)
            .ok_or_else(|| format!("configmap \"{name}\" not found"))?;
        map["data"][key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("couldn't find key {key} in ConfigMap {name}"))
    }

    /// The value at `key` of Secret `name`, decoded (`data` is base64,
    /// `stringData` plain), as the kubelet reads it.
    pub fn secret_value(&self, name: &str, key: &str) -> Result<String, String> {
        let secret = self
            .get("Secret", name)
            .ok_or_else(|| format!("secret \"{name}\" not found"))?;
        if let Some(plain) = secret["stringData"][key].as_str() {
            return Ok(plain.to_owned());
        }
        let encoded = secret["data"][key]
            .as_str()
            .ok_or_else(|| format!("couldn't find key {key} in Secret {name}"))?;
        let compact: String = encoded.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| format!("Secret {name} key {key}: {e}"))?;
        String::from_utf8(bytes).map_err(|e| format!("Secret {name} key {key}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {db_host: 'postgres.ns.svc.cluster.local:5432'}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
data:
  url: |
    cG9zdGdyZXM6
    Ly94
stringData: {plain: text}
";

    #[test]
    fn reads_config_maps_and_secrets_as_the_kubelet_does() {
        let m = Manifests::parse(SAMPLE).unwrap();
        assert_eq!(m.objects.len(), 2);
        assert_eq!(
            m.config_map_value("cfg", "db_host").unwrap(),
            "postgres.ns.svc.cluster.local:5432"
        );
        assert_eq!(m.secret_value("s", "url").unwrap(), "postgres://x");
        assert_eq!(m.secret_value("s", "plain").unwrap(), "text");
        assert!(m.secret_value("s", "nope").unwrap_err().contains("nope"));
        assert!(
            m.secret_value("t", "url")
                .unwrap_err()
                .contains("not found")
        );
    }
}
