//! `allowed_outbound_hosts` matching, shared by outbound HTTP and PostgreSQL.
//! Entries are `scheme://host[:port]` with `*` wildcards (`*`, `*.domain`,
//! port `*` or `a..b`); a missing port means the scheme's default port. Host
//! names are compared literally (no name resolution), like Spin.

use anyhow::{Result, bail};

#[derive(Debug, Clone)]
enum HostMatch {
    Any,
    Exact(String),
    /// `*.example.com` → ".example.com"
    Suffix(String),
}

#[derive(Debug, Clone)]
enum PortMatch {
    Any,
    Range(u16, u16),
    /// No port given: the scheme's default port.
    Default,
}

#[derive(Debug, Clone)]
struct Entry {
    scheme: Option<String>,
    host: HostMatch,
    port: PortMatch,
}

/// A component's parsed allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
    /// `http://self` / `http://self.alt`: relative outbound URLs are allowed.
    allow_self: bool,
}

/// Default port of the schemes Spin knows.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        _ => None,
    }
}

impl AllowedHosts {
    /// Parses already template-expanded entries.
    pub fn parse(entries: &[String]) -> Result<AllowedHosts> {
        let mut out = AllowedHosts::default();
        for e in entries {
            if e == "*://*:*" || e == "*" {
                out.entries.push(Entry {
                    scheme: None,
                    host: HostMatch::Any,
                    port: PortMatch::Any,
                });
                continue;
            }
            let Some((scheme, rest)) = e.split_once("://") else {
                bail!("invalid allowed_outbound_hosts entry {e:?}: expected scheme://host[:port]");
            };
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            if rest.contains('/') {
                bail!("invalid allowed_outbound_hosts entry {e:?}: paths are not allowed");
            }
            if scheme == "http" && (rest == "self" || rest == "self.alt") {
                out.allow_self = true;
                continue;
            }
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
                _ => (rest, None),
            };
            let port = match port {
                None => PortMatch::Default,
                Some("*") => PortMatch::Any,
                Some(p) => match p.split_once("..") {
                    Some((a, b)) => PortMatch::Range(a.parse()?, b.parse::<u16>()?),
                    None => {
                        let n: u16 = p.parse().map_err(|_| {
                            anyhow::anyhow!("invalid port in allowed_outbound_hosts entry {e:?}")
                        })?;
                        PortMatch::Range(n, n)
                    }
                },
            };
            let host = if host == "*" {
                HostMatch::Any
            } else if let Some(suffix) = host.strip_prefix('*') {
                HostMatch::Suffix(suffix.to_ascii_lowercase())
            } else {
                HostMatch::Exact(host.to_ascii_lowercase())
            };
            out.entries.push(Entry {
                scheme: (scheme != "*").then(|| scheme.to_string()),
                host,
                port,
            });
        }
        Ok(out)
    }

    /// Whether relative URLs (requests to the app itself) are allowed.
    pub fn allows_self(&self) -> bool {
        self.allow_self
    }

    /// Whether `scheme://host[:port]` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        let port = port.or_else(|| default_port(scheme));
        self.entries.iter().any(|e| {
            let scheme_ok = e.scheme.as_deref().is_none_or(|s| s == scheme);
            let host_ok = match &e.host {
                HostMatch::Any => true,
                HostMatch::Exact(h) => *h == host,
                HostMatch::Suffix(s) => host.ends_with(s.as_str()) && host.len() > s.len(),
            };
            let port_ok = match e.port {
                PortMatch::Any => true,
                PortMatch::Range(a, b) => port.is_some_and(|p| a <= p && p <= b),
                PortMatch::Default => {
                    let want = e.scheme.as_deref().and_then(default_port);
                    want.is_some() && port == want
                }
            };
            scheme_ok && host_ok && port_ok
        })
    }
}

/// The component a service-chaining URL names: `x` for
/// `scheme://x.spin.internal[:port]/...`, `*` for `*.spin.internal`, and
/// `None` for every other host, `a.b.spin.internal` included (Spin's
/// `parse_service_chaining_target`, which decides both what its outbound
/// HTTP interceptor runs in process and what a selection must retain).
pub fn service_chaining_target(uri: &http::Uri) -> Option<String> {
    let host = uri.authority()?.host().trim();
    let (host, _port) = host.rsplit_once(':').unwrap_or((host, ""));
    match host.split_once('.')? {
        (first, "spin.internal") => Some(first.to_string()),
        _ => None,
    }
}

/// Prints Spin's warning for a denied outbound destination.
pub fn log_denied(destination: &str) {
    eprintln!(
        "ERROR spin_runtime_factors: Outbound network destination not allowed: {destination}"
    );
    eprintln!(
        "Warning: A component tried to make an outbound network connection to disallowed destination '{destination}'.\nTo allow this request, add 'allowed_outbound_hosts = [\"{destination}\"]' to the manifest component section."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, scheme: &str, host: &str, port: Option<u16>) -> bool {
        AllowedHosts::parse(&[entry.to_string()])
            .unwrap()
            .allows(scheme, host, port)
    }

    #[test]
    fn postgres_table_from_spin_facts() {
        let p = Some(55432);
        assert!(allows(
            "postgres://127.0.0.1:55432",
            "postgres",
            "127.0.0.1",
            p
        ));
        assert!(!allows("postgres://127.0.0.1", "postgres", "127.0.0.1", p));
        assert!(allows(
            "postgres://127.0.0.1",
            "postgres",
            "127.0.0.1",
            None
        ));
        assert!(allows("postgres://127.0.0.1:*", "postgres", "127.0.0.1", p));
        assert!(allows("postgres://*:55432", "postgres", "localhost", p));
        assert!(!allows(
            "postgres://localhost:55432",
            "postgres",
            "127.0.0.1",
            p
        ));
        assert!(!allows("tcp://127.0.0.1:55432", "postgres", "127.0.0.1", p));
    }

    #[test]
    fn service_chaining_targets_as_spin_parses_them() {
        let target = |url: &str| service_chaining_target(&url.parse().unwrap());
        assert_eq!(target("http://priv.spin.internal/x"), Some("priv".into()));
        assert_eq!(
            target("https://priv.spin.internal:8080"),
            Some("priv".into())
        );
        assert_eq!(target("http://*.spin.internal"), Some("*".into()));
        assert_eq!(target("http://a.b.spin.internal"), None);
        assert_eq!(target("http://spin.internal"), None);
        assert_eq!(target("http://self"), None);
        assert_eq!(target("/relative"), None);
    }

    #[test]
    fn http_wildcards_and_self() {
        assert!(allows(
            "http://*.spin.internal",
            "http",
            "priv.spin.internal",
            None
        ));
        assert!(!allows(
            "http://priv.spin.internal",
            "http",
            "misc.spin.internal",
            None
        ));
        let a = AllowedHosts::parse(&["http://self".to_string()]).unwrap();
        assert!(a.allows_self());
        assert!(!a.allows("http", "self", None));
    }
}
