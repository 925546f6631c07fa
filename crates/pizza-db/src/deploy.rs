//! `pizza-db deploy`: everything a deployment needs from the database in one run, under the
//! migration lock for the whole of it. The Kubernetes migration Job runs it
//! (`spinkube/base/migrate/job.yaml`), and so does `make up` (`scripts/dev-env.sh`):
//!
//! 1. applies the pending `migrations/*.sql` (as `pizza-db migrate`);
//! 2. gives each service role LOGIN, its password and its CONNECTION LIMIT, in one
//!    transaction.
//!
//! The settings come from the environment only, never from the command line (other users
//! can read a process's argv), and are checked before the database is touched:
//!
//! | variable | |
//! | --- | --- |
//! | `LOGIN_DB_PASSWORD`, `MENU_DB_PASSWORD`, `ORDER_DB_PASSWORD`, `ADMIN_DB_PASSWORD` | required, non-empty |
//! | `LOGIN_DB_CONNECTION_LIMIT`, `MENU_DB_CONNECTION_LIMIT`, `ORDER_DB_CONNECTION_LIMIT`, `ADMIN_DB_CONNECTION_LIMIT` | required, a positive integer (never -1, "no limit", which would let one service take the others' connections) |

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::bail;
use postgres::Client;

use crate::migrate::{Migration, apply_pending, migration_files, with_migration_lock};
use crate::roles::{Password, configure_roles};

/// Each service role with the variables holding its password and its connection limit.
const SETTINGS: [(&str, &str, &str); 4] = [
    (
        "pizza_login",
        "LOGIN_DB_PASSWORD",
        "LOGIN_DB_CONNECTION_LIMIT",
    ),
    ("pizza_menu", "MENU_DB_PASSWORD", "MENU_DB_CONNECTION_LIMIT"),
    (
        "pizza_order",
        "ORDER_DB_PASSWORD",
        "ORDER_DB_CONNECTION_LIMIT",
    ),
    (
        "pizza_admin_api",
        "ADMIN_DB_PASSWORD",
        "ADMIN_DB_CONNECTION_LIMIT",
    ),
];

/// What one service role gets.
#[derive(Debug)]
pub struct RoleSettings {
    /// One of [`crate::SERVICE_ROLES`].
    pub role: &'static str,
    /// From `<SVC>_DB_PASSWORD`.
    pub password: Password,
    /// From `<SVC>_DB_CONNECTION_LIMIT`.
    pub connection_limit: i32,
}

/// A checked deployment: the migration files and the roles' settings. `Debug` shows no
/// password.
#[derive(Debug)]
pub struct Deployment {
    migrations: Vec<Migration>,
    roles: Vec<RoleSettings>,
}

/// What [`Deployment::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    /// The versions applied by this run (empty when the schema was up to date).
    pub applied: Vec<String>,
    /// Each role and the connection limit it now has (all three can log in).
    pub roles: Vec<(&'static str, i32)>,
}

impl Deployment {
    /// The environment variables a deployment reads (all required), in the order they are
    /// checked.
    pub fn variables() -> impl Iterator<Item = &'static str> {
        SETTINGS
            .into_iter()
            .flat_map(|(_, password, limit)| [password, limit])
    }

    /// Reads the settings from the process environment and the migrations from `dir`.
    pub fn from_env(dir: &Path) -> anyhow::Result<Deployment> {
        Deployment::new(dir, |name| std::env::var_os(name))
    }

    /// The deployment the Job would run with `passwords` (role, password) and the same
    /// `connection_limit` for every role: what test harnesses and the benchmark prepare
    /// their databases with, so that they go through the Job's own code.
    pub fn with_passwords(
        dir: &Path,
        passwords: &[(&str, &str)],
        connection_limit: u32,
    ) -> anyhow::Result<Deployment> {
        Deployment::new(dir, |name| {
            SETTINGS.iter().find_map(|(role, password_var, limit_var)| {
                if name == *limit_var {
                    Some(connection_limit.to_string().into())
                } else if name == *password_var {
                    passwords
                        .iter()
                        .find(|(r, _)| r == role)
                        .map(|(_, pw)| (*pw).into())
                } else {
                    None
                }
            })
        })
    }

    /// Reads the settings through `lookup` (an environment) and the migrations from `dir`.
    /// Every problem with the settings is reported at once, in one line naming the
    /// variables (and never a password's value).
    pub fn new(
        dir: &Path,
        lookup: impl Fn(&str) -> Option<OsString>,
    ) -> anyhow::Result<Deployment> {
        let mut problems = Vec::new();
        let mut roles = Vec::new();
        for (role, password_var, limit_var) in SETTINGS {
            let password = match lookup(password_var).map(OsString::into_string) {
                None => Err(format!("{password_var} is not set")),
                Some(Err(_)) => Err(format!("{password_var} is not UTF-8")),
                Some(Ok(value)) if value.is_empty() => Err(format!("{password_var} is empty")),
                Some(Ok(value)) => Ok(Password::new(value).expect("not empty")),
            };
            let limit = match lookup(limit_var) {
                None => Err(format!("{limit_var} is not set")),
                Some(value) => parse_limit(&value).ok_or_else(|| {
                    format!("{limit_var} must be a positive integer (got {value:?})")
                }),
            };
            match (password, limit) {
                (Ok(password), Ok(connection_limit)) => roles.push(RoleSettings {
                    role,
                    password,
                    connection_limit,
                }),
                (password, limit) => {
                    problems.extend(password.err());
                    problems.extend(limit.err());
                }
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("; "));
        }
        let migrations = migration_files(dir)?;
        if migrations.is_empty() {
            bail!("no migrations (*.sql) in {}", dir.display());
        }
        Ok(Deployment { migrations, roles })
    }

    /// Takes the migration lock (calling `on_wait` first if another migrator holds it),
    /// applies the pending migrations, each in its own transaction, then sets up the
    /// roles in one transaction, and releases the lock. A failure leaves every migration
    /// applied before it in place and the roles as they were; the next run carries on.
    pub fn run(&self, client: &mut Client, on_wait: impl FnOnce()) -> anyhow::Result<DeployReport> {
        with_migration_lock(client, on_wait, |client| {
            let applied = apply_pending(client, &self.migrations)?;
            configure_roles(
                client,
                self.roles
                    .iter()
                    .map(|r| (r.role, &r.password, r.connection_limit)),
            )?;
            Ok(DeployReport {
                applied,
                roles: self
                    .roles
                    .iter()
                    .map(|r| (r.role, r.connection_limit))
                    .collect(),
            })
        })
    }
}

impl DeployReport {
    /// The report as `pizza-db deploy` prints it, one line each.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        if self.applied.is_empty() {
            out.push_str("migrations: up to date\n");
        }
        for version in &self.applied {
            let _ = writeln!(out, "migrations: applied {version}");
        }
        for (role, limit) in &self.roles {
            let _ = writeln!(
                out,
                "roles: {role}: LOGIN, password set, CONNECTION LIMIT {limit}"
            );
        }
        out
    }
}

/// A positive integer written plainly: digits only, no sign, no leading zero, within i32.
fn parse_limit(value: &std::ffi::OsStr) -> Option<i32> {
    let text = value.to_str()?;
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrations_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    const GOOD: [(&str, &str); 8] = [
        ("LOGIN_DB_PASSWORD", "login-secret"),
        ("MENU_DB_PASSWORD", "menu-secret"),
        ("ORDER_DB_PASSWORD", "order-secret"),
        ("ADMIN_DB_PASSWORD", "admin-secret"),
        ("LOGIN_DB_CONNECTION_LIMIT", "64"),
        ("MENU_DB_CONNECTION_LIMIT", "32"),
        ("ORDER_DB_CONNECTION_LIMIT", "16"),
        ("ADMIN_DB_CONNECTION_LIMIT", "8"),
    ];

    #[test]
    fn the_roles_are_the_service_roles() {
        let roles: Vec<&str> = SETTINGS.iter().map(|(role, _, _)| *role).collect();
        assert_eq!(roles, crate::SERVICE_ROLES);
    }

    #[test]
    fn limits_are_plain_positive_integers() {
        for good in ["1", "64", "2147483647"] {
            assert!(parse_limit(good.as_ref()).is_some(), "{good}");
        }
        for bad in [
            "",
            "0",
            "-1",
            "064",
            "+64",
            " 64",
            "64 ",
            "6e1",
            "2147483648",
        ] {
            assert_eq!(parse_limit(bad.as_ref()), None, "{bad:?}");
        }
    }

    #[test]
    fn settings_come_from_the_environment_and_never_print() {
        let deployment = Deployment::new(&migrations_dir(), env(&GOOD)).unwrap();
        let limits: Vec<_> = deployment
            .roles
            .iter()
            .map(|r| (r.role, r.connection_limit))
            .collect();
        assert_eq!(
            limits,
            [
                ("pizza_login", 64),
                ("pizza_menu", 32),
                ("pizza_order", 16),
                ("pizza_admin_api", 8)
            ]
        );
        let debug = format!("{deployment:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn every_problem_is_named_in_one_line() {
        let mut vars: Vec<(&str, &str)> = GOOD.to_vec();
        vars.retain(|(key, _)| *key != "LOGIN_DB_PASSWORD");
        vars.iter_mut()
            .filter(|(key, _)| *key == "MENU_DB_PASSWORD")
            .for_each(|(_, value)| *value = "");
        vars.iter_mut()
            .filter(|(key, _)| *key == "ORDER_DB_CONNECTION_LIMIT")
            .for_each(|(_, value)| *value = "-1");
        let error = Deployment::new(&migrations_dir(), env(&vars))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "LOGIN_DB_PASSWORD is not set; MENU_DB_PASSWORD is empty; \
             ORDER_DB_CONNECTION_LIMIT must be a positive integer (got \"-1\")"
        );
    }

    #[test]
    fn a_folder_without_migrations_is_refused() {
        let dir = std::env::temp_dir().join(format!("pizza-db-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let error = Deployment::new(&dir, env(&GOOD)).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.starts_with("no migrations (*.sql) in "), "{error}");
    }
}
