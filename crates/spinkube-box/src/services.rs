//! Cluster DNS, here: the names a pod would use for a Service
//! (`<svc>.<ns>.svc.cluster.local:<port>` and its shorter forms) mapped to
//! the `127.0.0.1:<port>` of what serves it in the box.

/// Service addresses and where they are served.
#[derive(Default, Clone, Debug)]
pub struct Services {
    /// `(service, namespace, port, local address)`.
    entries: Vec<(String, String, u16, String)>,
}

impl Services {
    /// Serves Service `name` in `namespace` on `port` at `local` (`127.0.0.1:<port>`).
    pub fn add(&mut self, name: &str, namespace: &str, port: u16, local: &str) {
        self.entries
            .push((name.into(), namespace.into(), port, local.into()));
    }

    /// The local address of Service `name` (any port), if the box serves it.
    pub fn local(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(.., local)| local.as_str())
    }

    /// `value` with every `host:port` naming a served Service replaced by its
    /// local address, longest form first.
    pub fn rewrite(&self, value: &str) -> String {
        let mut out = value.to_owned();
        for (name, ns, port, local) in &self.entries {
            for host in [
                format!("{name}.{ns}.svc.cluster.local"),
                format!("{name}.{ns}.svc"),
                format!("{name}.{ns}"),
            ] {
                out = out.replace(&format!("{host}:{port}"), local);
            }
            out = out.replace(&format!("@{name}:{port}"), &format!("@{local}"));
            if out == format!("{name}:{port}") {
                out = local.clone();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_resolve_to_the_box() {
        let mut s = Services::default();
        s.add("postgres", "pizza-dev", 5432, "127.0.0.1:40001");
        assert_eq!(
            s.rewrite("postgres://u:p@postgres.pizza-dev.svc.cluster.local:5432/pizza?x=1"),
            "postgres://u:p@127.0.0.1:40001/pizza?x=1"
        );
        assert_eq!(s.rewrite("postgres:5432"), "127.0.0.1:40001");
        assert_eq!(
            s.rewrite("postgres://u:p@postgres:5432/db"),
            "postgres://u:p@127.0.0.1:40001/db"
        );
        assert_eq!(s.rewrite("other.ns.svc:5432"), "other.ns.svc:5432");
        assert_eq!(s.local("postgres"), Some("127.0.0.1:40001"));
    }
}
