//! Test harness shared by spin-host's tests and the app's end-to-end tests:
//! throw-away PostgreSQL clusters and `spin-host` processes, both cleaned up
//! on drop so tests can run in parallel without leftovers.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod pgbouncer;
pub use pgbouncer::{PGBOUNCER_VERSION, PgBouncer};

/// SQL that builds the database the Django services leave behind (see the file's
/// header): the starting point of every test of adopting, planning and coexisting.
pub const DJANGO_DATABASE: &str = include_str!("../fixtures/django_database.sql");

/// `postgres://user:password@127.0.0.1:port/db`: a server of this harness, or a
/// pooler in front of one.
fn loopback_url(port: u16, user: &str, password: &str, db: &str) -> String {
    format!("postgres://{user}:{password}@127.0.0.1:{port}/{db}")
}

/// Returns a currently free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// The Cargo workspace root (the directory whose Cargo.toml has `[workspace]`).
pub fn workspace_root() -> PathBuf {
    // At run time cargo sets CARGO_MANIFEST_DIR for the test being run; the
    // compile-time value is only a fallback (a shared target dir may have
    // compiled this crate from another checkout).
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let mut dir = start.clone();
    loop {
        let manifest = dir.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|s| s.contains("[workspace]")) {
            return dir;
        }
        if !dir.pop() {
            panic!("workspace root not found above {}", start.display());
        }
    }
}

/// The `spin-host` binary: `$SPIN_HOST_BIN`, else `<root>/target/release/spin-host`.
pub fn host_bin() -> PathBuf {
    match std::env::var_os("SPIN_HOST_BIN") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join("target/release/spin-host"),
    }
}

/// A private throw-away PostgreSQL cluster (initdb into a temp dir, random free
/// port, pg_ctl start, trust auth on 127.0.0.1, superuser "postgres"); stopped
/// and removed on Drop.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<String>,
    /// The `-o` options of `pg_ctl start`, kept so [`Postgres::restart`] starts
    /// the server exactly as before.
    opts: String,
}

fn find_pg_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PG_BIN") {
        return PathBuf::from(p);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server binaries found (set PG_BIN or install postgresql: apt-get install postgresql)"
        ),
    }
}

/// When running as root, the unprivileged account that runs the server
/// (initdb refuses to run as root).
fn unprivileged_user() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for user in ["postgres", "nobody"] {
        let ok = Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(user.to_string());
        }
    }
    panic!("running as root but neither user 'postgres' nor 'nobody' exists to run PostgreSQL");
}

/// The Spin variable holding a service role's connection string, as `make up`
/// (`scripts/dev-env.sh`) names it: `pizza_<service>` → `<service>_db_url`;
/// the admin service's role is `pizza_admin_api` (on SpinKube `pizza_admin` is
/// the schema owner), whose variable is `admin_db_url`.
pub fn url_variable(role: &str) -> String {
    let service = role.trim_start_matches("pizza_").trim_end_matches("_api");
    format!("{service}_db_url")
}

/// The server settings `make up` gives its private cluster beyond PostgreSQL's
/// defaults (the ones that change behaviour, not where it listens):
/// `max_connections` = 4 services × Spin's 64 pooled connections + 18 for the
/// admin tools and PostgreSQL's 3 superuser-reserved slots.
pub const MAKE_UP_SETTINGS: &[&str] = &["timezone=Etc/UTC", "max_connections=274"];

impl Postgres {
    /// Creates and starts a new cluster configured as `make up`'s
    /// (scripts/dev-env.sh): PostgreSQL's defaults (`fsync` on) and
    /// [`MAKE_UP_SETTINGS`], so that tests see the limits users run with.
    /// Panics with the tool output on failure.
    pub fn start() -> Postgres {
        Postgres::start_with(MAKE_UP_SETTINGS)
    }

    /// Creates and starts a new cluster with only the given server settings
    /// (`name=value`, each passed as `-c`) beyond the ones every cluster needs
    /// (TCP on 127.0.0.1 only, the chosen port, the socket in the temp dir);
    /// everything else keeps PostgreSQL's defaults. With `&[]` the server is
    /// configured as `make up`'s (scripts/dev-env.sh), e.g. the default
    /// `max_connections` of 100, for runs that must see what production limits do.
    pub fn start_with(settings: &[&str]) -> Postgres {
        let bin = find_pg_bin();
        let run_as = unprivileged_user();
        let base =
            std::env::temp_dir().join(format!("testkit-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&base).expect("create temp dir");
        let mut pg = Postgres {
            bin,
            dir: base,
            port: 0,
            run_as,
            opts: String::new(),
        };
        if let Some(user) = &pg.run_as {
            pg.check(
                Command::new("chown").arg("-R").arg(user).arg(&pg.dir),
                "chown",
            );
        }
        let data = pg.dir.join("data");
        let initdb = pg.bin.join("initdb");
        let mut cmd = pg.as_user(&initdb);
        cmd.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        pg.check(&mut cmd, "initdb");
        // Random port; retry if another test grabbed it in between.
        for attempt in 0..5 {
            pg.port = free_port();
            let mut opts = format!(
                "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={}",
                pg.port,
                pg.dir.display()
            );
            for setting in settings {
                opts.push_str(" -c ");
                opts.push_str(setting);
            }
            pg.opts = opts;
            let out = pg.pg_ctl_start().output().expect("run pg_ctl");
            if out.status.success() {
                return pg;
            }
            if attempt == 4 {
                let log = std::fs::read_to_string(pg.dir.join("server.log")).unwrap_or_default();
                panic!(
                    "pg_ctl start failed:\n{}{}\nserver.log:\n{log}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        unreachable!()
    }

    /// `pg_ctl start` of this cluster's data directory with its options, waiting
    /// (60 s at most) until the server accepts connections.
    fn pg_ctl_start(&self) -> Command {
        let mut cmd = self.as_user(&self.bin.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &self.opts, "start"]);
        cmd
    }

    /// The postmaster's pid, from the first line of `<data>/postmaster.pid`.
    fn postmaster_pid(&self) -> Option<libc::pid_t> {
        let text = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Crashes the server the way the OOM killer or a lost node does, for
    /// fault-injection runs: SIGKILL to the postmaster and every process it
    /// started (no shutdown checkpoint, no goodbye to clients), then waits
    /// until all of them are gone so the port is free and the next start
    /// finds no backend still attached to the old shared memory. Committed
    /// data survives (crash recovery replays the WAL on [`Postgres::restart`]).
    /// Panics if the server is not running.
    pub fn kill9(&self) {
        let pid = self
            .postmaster_pid()
            .filter(|&pid| process_alive(pid))
            .expect("kill9: the server is not running (no live pid in postmaster.pid)");
        // Freeze the postmaster first so it forks nothing new, then kill it and
        // the children it has (found by parent pid before they are reparented).
        // SAFETY: kill(2) on the server's processes, which this harness started.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let mut victims = children_of(pid);
        victims.push(pid);
        for &victim in &victims {
            // SAFETY: as above.
            unsafe { libc::kill(victim, libc::SIGKILL) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while victims.iter().any(|&p| process_alive(p)) {
            assert!(
                Instant::now() < deadline,
                "kill9: server processes still alive after 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts the server again on the same data directory, port and options
    /// (after [`Postgres::kill9`]: with crash recovery), waiting until it
    /// accepts connections; panics with the tool output on failure. A
    /// `postmaster.pid` left by a killed server whose pid is dead or a zombie
    /// (nobody reaps orphans in some containers, and PostgreSQL takes a
    /// zombie's pid for a running server) is removed first.
    pub fn restart(&self) {
        if let Some(pid) = self.postmaster_pid()
            && !process_alive(pid)
        {
            let _ = std::fs::remove_file(self.dir.join("data/postmaster.pid"));
        }
        let out = self.pg_ctl_start().output().expect("run pg_ctl");
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!(
                "pg_ctl start (restart) failed:\n{}{}\nserver.log:\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The server's log file (all starts append to it).
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn as_user(&self, program: &Path) -> Command {
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("setpriv");
                let uid = id_of(user, "-u");
                let gid = id_of(user, "-g");
                c.args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={gid}"),
                    "--clear-groups",
                    "--",
                ])
                .arg(program)
                .env("HOME", &self.dir)
                .current_dir(&self.dir);
                c
            }
            None => Command::new(program),
        }
    }

    fn check(&self, cmd: &mut Command, what: &str) -> String {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("failed to run {what}: {e}"));
        if !out.status.success() {
            panic!(
                "{what} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `postgres://user:password@127.0.0.1:port/db`.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        loopback_url(self.port, user, password, db)
    }

    /// URL for the superuser `postgres` (trust auth, any password).
    pub fn superuser_url(&self, db: &str) -> String {
        self.url("postgres", "postgres", db)
    }

    /// Creates a database as superuser.
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }

    /// Runs `psql -v ON_ERROR_STOP=1` as superuser; returns stdout, panics on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let psql = self.bin.join("psql");
        let psql = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let mut cmd = Command::new(psql);
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .arg("-d")
        .arg(db)
        .arg("-c")
        .arg(sql);
        self.check(&mut cmd, &format!("psql {sql:?}"))
    }
}

/// Whether `pid` is a running process (neither gone nor a zombie).
fn process_alive(pid: libc::pid_t) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The pids whose parent is `parent`, from /proc.
fn children_of(parent: libc::pid_t) -> Vec<libc::pid_t> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: libc::pid_t = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid: libc::pid_t = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

fn id_of(user: &str, flag: &str) -> String {
    let out = Command::new("id")
        .arg(flag)
        .arg(user)
        .output()
        .expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut cmd = self.as_user(&self.bin.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = cmd.status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running spin-host serving a manifest on a free port; SIGTERM + wait on Drop.
pub struct Host {
    child: Child,
    port: u16,
    output: Arc<Mutex<Vec<u8>>>,
}

fn capture(mut r: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
}

/// The command line `spin up` would take: `<bin> up -f <manifest> --listen
/// 127.0.0.1:<port> --variable k=v ...`, for every harness that starts the host.
pub fn host_command<K: AsRef<str>, V: AsRef<str>>(
    bin: &Path,
    manifest: &Path,
    port: u16,
    variables: &[(K, V)],
) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("up")
        .arg("-f")
        .arg(manifest)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    for (k, v) in variables {
        cmd.arg("--variable")
            .arg(format!("{}={}", k.as_ref(), v.as_ref()));
    }
    cmd
}

/// A ureq agent that returns 4xx/5xx responses instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

impl Host {
    /// Starts `spin-host up -f <manifest> --listen 127.0.0.1:<free>` with the
    /// given `--variable`s and extra environment; waits until
    /// `/.well-known/spin/health` answers 200 (60 s), panicking with the host's
    /// output otherwise.
    pub fn start(manifest: &Path, variables: &[(&str, &str)], env: &[(&str, &str)]) -> Host {
        Host::try_start(manifest, variables, env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Host::start`], with what kept the host from serving as the error
    /// (its exit and output, as a pod that would not become ready).
    pub fn try_start(
        manifest: &Path,
        variables: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<Host, String> {
        let port = free_port();
        let mut cmd = host_command(&host_bin(), manifest, port, variables);
        // Error texts must not depend on the caller's backtrace settings
        // (Spin, too, appends host backtraces to error strings when set).
        cmd.env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("failed to start {}: {e}", host_bin().display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        capture(child.stdout.take().unwrap(), output.clone());
        capture(child.stderr.take().unwrap(), output.clone());
        let mut host = Host {
            child,
            port,
            output,
        };
        let agent = agent();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = host.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                return Err(format!(
                    "spin-host exited early ({status}):\n{}",
                    host.output()
                ));
            }
            let ok = agent
                .get(format!("{}/.well-known/spin/health", host.base_url()))
                .call()
                .is_ok_and(|r| r.status() == 200);
            if ok {
                return Ok(host);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "spin-host did not become healthy within 60s:\n{}",
                    host.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The host's captured stdout+stderr so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Sends SIGTERM and waits for exit; returns the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return self.child.wait().expect("wait for spin-host");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}
