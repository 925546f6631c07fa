//! Connecting to PostgreSQL the way libpq (psql) would with the same URL: TLS per `sslmode`,
//! including `verify-ca` and `verify-full` against `sslrootcert`, which the postgres crate
//! does not parse itself; a few libpq environment variables as fallbacks; and, when asked,
//! waiting for a server that is still starting.
//!
//! Supported in a `postgres://` URL beside everything tokio-postgres accepts:
//! - `sslmode`: `disable`, `prefer` (default), `require`, `verify-ca`, `verify-full`. As in
//!   libpq, `prefer` and `require` verify the server's chain only when `sslrootcert` is given
//!   (`require` then behaves as `verify-ca`), `verify-ca` checks the chain, `verify-full`
//!   the chain and that the certificate names the host (DNS name or IP address).
//! - `sslrootcert`: a PEM file of CA certificates, or `system` for the system's roots.
//!
//! When the URL lacks them: `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME` (else `pizza-db`) and
//! `PGCONNECT_TIMEOUT` (else 10 s). Errors never quote the URL: it may hold a password.

use std::error::Error as _;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres::config::SslMode as PgSslMode;
use postgres::error::SqlState;
use postgres::{Client, Config};
use postgres_openssl::MakeTlsConnector;

/// libpq's `sslmode` values (but `allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> anyhow::Result<SslMode> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => bail!(
                "sslmode {other:?} is not supported: use disable, prefer, require, verify-ca or verify-full"
            ),
        })
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        })
    }
}

/// Where and how to connect: the postgres crate's config plus the TLS settings it lacks.
struct Target {
    config: Config,
    ssl_mode: SslMode,
    root_cert: Option<String>,
}

/// Connects to `url`. With a non-zero `wait`, a server that cannot be reached yet (refused,
/// unresolvable, timed out, "starting up") is retried every 2 s until `wait` has passed;
/// `on_wait` is called once, before the first retry. Authentication, TLS and configuration
/// errors fail at once.
pub fn connect(url: &str, wait: Duration, on_wait: impl FnOnce()) -> anyhow::Result<Client> {
    let target = parse(url, &|name| std::env::var(name).ok())?;
    let tls = tls_connector(target.ssl_mode, target.root_cert.as_deref())?;
    let deadline = Instant::now() + wait;
    let mut on_wait = Some(on_wait);
    loop {
        match target.config.connect(tls.clone()) {
            Ok(client) => return Ok(client),
            Err(error) if is_transient(&error) && Instant::now() < deadline => {
                if let Some(on_wait) = on_wait.take() {
                    on_wait();
                }
                std::thread::sleep(Duration::from_secs(2).min(deadline - Instant::now()));
            }
            Err(error) => return Err(error).context("connecting to the database"),
        }
    }
}

/// Whether a failed connection attempt may succeed later: an I/O failure (refused,
/// unresolvable host, timeout) outside the TLS handshake, or a server still starting up.
fn is_transient(error: &postgres::Error) -> bool {
    if let Some(db) = error.as_db_error() {
        return db.code() == &SqlState::CANNOT_CONNECT_NOW;
    }
    let mut io = false;
    let mut cause = error.source();
    while let Some(current) = cause {
        if current.is::<openssl::ssl::Error>() || current.is::<openssl::error::ErrorStack>() {
            return false;
        }
        io |= current.is::<std::io::Error>();
        cause = current.source();
    }
    io
}

/// Splits the TLS parameters off `url` and parses the rest with the postgres crate.
fn parse(url: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Target> {
    let mut ssl_mode = None;
    let mut root_cert = None;
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let rest = if is_url {
        match url.split_once('?') {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    match key {
                        "sslmode" => ssl_mode = Some(percent_decode(value, key)?),
                        "sslrootcert" => root_cert = Some(percent_decode(value, key)?),
                        _ => kept.push(pair),
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_owned(),
        }
    } else {
        // A key=value string: passed on as it is (its sslmode may be disable, prefer or
        // require; use a URL for verify-ca/verify-full).
        url.to_owned()
    };
    let mut config: Config = rest
        .parse()
        .map_err(|error| anyhow!("invalid database URL: {error}"))?;
    // A key=value string's own sslmode was parsed by the postgres crate already.
    let own_mode = !is_url && rest.contains("sslmode");
    let ssl_mode = match ssl_mode.or_else(|| (!own_mode).then(|| env("PGSSLMODE")).flatten()) {
        Some(value) => SslMode::parse(&value)?,
        None => match config.get_ssl_mode() {
            PgSslMode::Disable => SslMode::Disable,
            PgSslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        },
    };
    let root_cert = root_cert
        .or_else(|| env("PGSSLROOTCERT"))
        .filter(|path| !path.is_empty());
    config.ssl_mode(match ssl_mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    });
    if config.get_application_name().is_none() {
        config.application_name(env("PGAPPNAME").as_deref().unwrap_or("pizza-db"));
    }
    if config.get_connect_timeout().is_none() {
        let seconds = match env("PGCONNECT_TIMEOUT") {
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| {
                    anyhow!(
                        "PGCONNECT_TIMEOUT must be a positive number of seconds (got {value:?})"
                    )
                })?,
            None => 10,
        };
        config.connect_timeout(Duration::from_secs(seconds));
    }
    Ok(Target {
        config,
        ssl_mode,
        root_cert,
    })
}

/// The TLS connector for `mode`, verifying against `root_cert` as libpq would.
fn tls_connector(mode: SslMode, root_cert: Option<&str>) -> anyhow::Result<MakeTlsConnector> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    let verify = match (mode, root_cert) {
        (SslMode::Disable, _) => false,
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => bail!(
            "sslmode={mode} needs sslrootcert=<file of CA certificates> (or sslrootcert=system)"
        ),
        (_, None) => false,
        (_, Some("system")) => {
            builder.set_default_verify_paths()?;
            true
        }
        (_, Some(path)) => {
            std::fs::metadata(path).with_context(|| format!("sslrootcert {path}"))?;
            builder
                .set_ca_file(path)
                .map_err(|error| anyhow!("sslrootcert {path}: no usable certificate ({error})"))?;
            true
        }
    };
    builder.set_verify(if verify {
        SslVerifyMode::PEER
    } else {
        SslVerifyMode::NONE
    });
    let mut connector = MakeTlsConnector::new(builder.build());
    let check_host = mode == SslMode::VerifyFull;
    connector.set_callback(move |config, _host| {
        config.set_verify_hostname(check_host);
        Ok(())
    });
    Ok(connector)
}

/// `%XX`-decodes a URL query value.
fn percent_decode(value: &str, key: &str) -> anyhow::Result<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| anyhow!("invalid %-escape in the URL's {key}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("the URL's {key} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(url: &str, vars: &[(&str, &str)]) -> anyhow::Result<Target> {
        parse(url, &|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn tls_parameters_are_taken_off_the_url() {
        let target = parse_with(
            "postgres://admin:pw@db-rw:5432/pizza?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.crt&connect_timeout=3",
            &[],
        )
        .unwrap();
        assert_eq!(target.ssl_mode, SslMode::VerifyFull);
        assert_eq!(target.root_cert.as_deref(), Some("/etc/ca.crt"));
        assert_eq!(target.config.get_ssl_mode(), PgSslMode::Require);
        assert_eq!(
            target.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(target.config.get_dbname(), Some("pizza"));
        assert_eq!(target.config.get_application_name(), Some("pizza-db"));
    }

    #[test]
    fn the_url_wins_over_the_environment() {
        let env = [
            ("PGSSLMODE", "verify-ca"),
            ("PGSSLROOTCERT", "/env/ca.crt"),
            ("PGAPPNAME", "pizza-migrate"),
            ("PGCONNECT_TIMEOUT", "7"),
        ];
        let target = parse_with("postgres://u@h/db?sslmode=disable", &env).unwrap();
        assert_eq!(target.ssl_mode, SslMode::Disable);
        assert_eq!(target.root_cert.as_deref(), Some("/env/ca.crt"));
        assert_eq!(target.config.get_application_name(), Some("pizza-migrate"));
        assert_eq!(
            target.config.get_connect_timeout(),
            Some(&Duration::from_secs(7))
        );
        let target = parse_with("postgres://u@h/db", &env).unwrap();
        assert_eq!(target.ssl_mode, SslMode::VerifyCa);
    }

    #[test]
    fn defaults_are_libpqs() {
        let target = parse_with("postgres://u@h/db", &[]).unwrap();
        assert_eq!(target.ssl_mode, SslMode::Prefer);
        assert_eq!(target.root_cert, None);
        let target =
            parse_with("host=h user=u sslmode=require", &[("PGSSLMODE", "disable")]).unwrap();
        assert_eq!(target.ssl_mode, SslMode::Require);
    }

    #[test]
    fn bad_settings_fail_without_quoting_the_url() {
        for (url, env, expected) in [
            (
                "postgres://u:secret@h/db?sslmode=allow",
                &[][..],
                "sslmode \"allow\" is not supported",
            ),
            (
                "postgres://u:secret@h/db?sslmod=require",
                &[],
                "invalid database URL",
            ),
            (
                "postgres://u:secret@h/db",
                &[("PGCONNECT_TIMEOUT", "soon")],
                "PGCONNECT_TIMEOUT must be a positive number",
            ),
        ] {
            let error = parse_with(url, env).err().expect(url).to_string();
            assert!(error.contains(expected), "{error}");
            assert!(!error.contains("secret"), "{error}");
        }
    }

    #[test]
    fn verification_needs_a_root_certificate() {
        let error = tls_connector(SslMode::VerifyFull, None)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("sslrootcert"), "{error}");
        let error = tls_connector(SslMode::VerifyCa, Some("/nonexistent/ca.crt"))
            .err()
            .unwrap();
        assert!(format!("{error:#}").contains("/nonexistent/ca.crt"));
        assert!(tls_connector(SslMode::Require, None).is_ok());
    }
}
