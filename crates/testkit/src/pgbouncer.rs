//! A throw-away PgBouncer in front of a [`Postgres`] cluster, configured as a
//! transaction-mode pooler the way CloudNativePG's `Pooler` runs one: clients
//! authenticate with SCRAM against the roles' verifiers, which PgBouncer reads
//! with `auth_query` as `auth_user`; prepared statements, timeouts and the
//! rest of its behaviour come from the Poolers' own settings file. The binary is the one `scripts/pgbouncer.sh`
//! builds; killed and removed on Drop.

use crate::{Postgres, free_port, loopback_url, workspace_root};
use std::fs::File;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The PgBouncer release `scripts/pgbouncer.sh` builds.
pub const PGBOUNCER_VERSION: &str = "1.24.1";

/// Password of the superuser `postgres` at PgBouncer (its `auth_file`): the
/// `auth_user` and the admin console's user.
const PGBOUNCER_ADMIN_PASSWORD: &str = "postgres";

/// The settings every [`PgBouncer`] gets before the deployment's behaviour
/// ([`POOLER_BEHAVIOUR`]) and the caller's own, later ones winning: the pool
/// mode and authentication of CloudNativePG's `Pooler`, and room for every
/// client connection the app opens (3 × 64, one pool per connection string).
const HARNESS: &[(&str, &str)] = &[
    ("pool_mode", "transaction"),
    ("auth_type", "scram-sha-256"),
    ("auth_user", "postgres"),
    ("admin_users", "postgres"),
    ("max_client_conn", "1000"),
    ("default_pool_size", "20"),
];

/// How the stg/prod Poolers' PgBouncers behave (prepared statements,
/// timeouts): `name=value` lines with `#` comments, the file kustomize
/// copies into both Poolers, so the tests run what is deployed.
const POOLER_BEHAVIOUR: &str = "spinkube/database/cnpg/pgbouncer.env";

/// The `name=value` settings of [`POOLER_BEHAVIOUR`].
fn pooler_behaviour() -> Vec<(String, String)> {
    let path = workspace_root().join(POOLER_BEHAVIOUR);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{POOLER_BEHAVIOUR}: {line:?} is not name=value"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// A running PgBouncer on 127.0.0.1 (no Unix socket).
pub struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// `target/tools/pgbouncer-<version>/bin/pgbouncer` of the workspace.
fn pgbouncer_bin() -> PathBuf {
    workspace_root().join(format!(
        "target/tools/pgbouncer-{PGBOUNCER_VERSION}/bin/pgbouncer"
    ))
}

impl PgBouncer {
    /// Starts PgBouncer for every database of `pg` (`* = host=127.0.0.1
    /// port=<pg>`), listening on a free port, configured as the deployment's
    /// Poolers (transaction mode, SCRAM with `auth_query` as `postgres`, then
    /// [`POOLER_BEHAVIOUR`]), overridden or extended by `settings`
    /// (`name=value` lines of the `[pgbouncer]` section). Waits until it accepts
    /// connections; panics with its log otherwise. As root it runs as the
    /// cluster's unprivileged user (PgBouncer refuses to run as root).
    pub fn start(pg: &Postgres, settings: &[&str]) -> PgBouncer {
        let bin = pgbouncer_bin();
        assert!(
            bin.exists(),
            "{} is missing: build it with `bash scripts/pgbouncer.sh`",
            bin.display()
        );
        let dir = std::env::temp_dir().join(format!(
            "testkit-pgbouncer-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        // The unprivileged user may not be able to enter the workspace (say, a
        // clone under /root): it runs a copy.
        let bin = match &pg.run_as {
            Some(_) => {
                let copy = dir.join("pgbouncer");
                std::fs::copy(&bin, &copy).expect("copy pgbouncer");
                copy
            }
            None => bin,
        };
        let mut config: Vec<(String, String)> = Vec::new();
        let callers = settings.iter().map(|setting| {
            let (k, v) = setting
                .split_once('=')
                .unwrap_or_else(|| panic!("setting {setting:?} is not name=value"));
            (k.trim().to_string(), v.trim().to_string())
        });
        let harness = HARNESS.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        for (k, v) in harness.chain(pooler_behaviour()).chain(callers) {
            match config.iter_mut().find(|(name, _)| *name == k) {
                Some(entry) => entry.1 = v,
                None => config.push((k, v)),
            }
        }
        let auth_file = dir.join("userlist.txt");
        std::fs::write(
            &auth_file,
            format!("\"postgres\" \"{PGBOUNCER_ADMIN_PASSWORD}\"\n"),
        )
        .expect("write auth_file");
        let log = dir.join("pgbouncer.log");
        for attempt in 0..5 {
            let port = free_port();
            let mut ini = format!(
                "[databases]\n* = host=127.0.0.1 port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_file = {}\npidfile = {}\n",
                pg.port(),
                auth_file.display(),
                dir.join("pgbouncer.pid").display(),
            );
            for (k, v) in &config {
                ini.push_str(&format!("{k} = {v}\n"));
            }
            let ini_path = dir.join("pgbouncer.ini");
            std::fs::write(&ini_path, ini).expect("write pgbouncer.ini");
            if let Some(user) = &pg.run_as {
                pg.check(Command::new("chown").arg("-R").arg(user).arg(&dir), "chown");
            }
            let out = File::create(&log).expect("create pgbouncer.log");
            let mut child = pg
                .as_user(&bin)
                .arg(&ini_path)
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("dup log"))
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("failed to start {}: {e}", bin.display()));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    if attempt < 4 && text.contains("Address already in use") {
                        break;
                    }
                    panic!("pgbouncer exited at start ({status}):\n{text}");
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return PgBouncer { child, dir, port };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "pgbouncer did not listen within 20 s:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        unreachable!()
    }

    /// PgBouncer's TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `postgres://user:password@127.0.0.1:port/db`, through PgBouncer.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        loopback_url(self.port, user, password, db)
    }

    /// The admin console (`SHOW POOLS`, `SHOW STATS`, ...; simple protocol only).
    pub fn admin_url(&self) -> String {
        self.url("postgres", PGBOUNCER_ADMIN_PASSWORD, "pgbouncer")
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
