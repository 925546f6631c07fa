//! `pizza-db deploy`, as the Kubernetes migration Job and `make up` run it: settings from the
//! environment only, migrations and role settings under one lock, idempotent, and no secret
//! in its output.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{Database, migration_count, migrations_dir};
use postgres::{Client, NoTls};

/// The Job's environment: four passwords and four connection limits.
fn job_env(passwords: [&str; 4], limits: [&str; 4]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for ((service, password), limit) in ["LOGIN", "MENU", "ORDER", "ADMIN"]
        .into_iter()
        .zip(passwords)
        .zip(limits)
    {
        env.push((format!("{service}_DB_PASSWORD"), password.to_owned()));
        env.push((format!("{service}_DB_CONNECTION_LIMIT"), limit.to_owned()));
    }
    env
}

const PASSWORDS: [&str; 4] = [
    "login-pw-3b1f0c9e7d",
    "menu-pw-a8e24f61c0",
    "order-pw-5d7c19b2ee",
    "admin-pw-e61f0a93c4",
];

/// The service roles, in the order of `PASSWORDS` and of deploy's report.
const ROLES: [&str; 4] = [
    "pizza_login",
    "pizza_menu",
    "pizza_order",
    "pizza_admin_api",
];

/// `pizza-db deploy` with exactly `env` (plus the admin URL in DATABASE_URL, as the Job
/// passes it), nothing inherited.
fn deploy_command(url: &str, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pizza-db"));
    cmd.args(["deploy", "--dir"])
        .arg(migrations_dir())
        .env_clear()
        .env("DATABASE_URL", url)
        .envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

fn deploy(url: &str, env: &[(String, String)]) -> Output {
    deploy_command(url, env).output().expect("run pizza-db")
}

/// stdout of a deploy that must succeed.
fn deploy_ok(db: &Database, env: &[(String, String)]) -> String {
    let out = deploy(&db.url, env);
    assert!(
        out.status.success(),
        "deploy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn role_lines(limits: [i32; 4]) -> String {
    ROLES
        .into_iter()
        .zip(limits)
        .map(|(role, limit)| {
            format!("roles: {role}: LOGIN, password set, CONNECTION LIMIT {limit}\n")
        })
        .collect()
}

/// Whether `role` can log in with `password` (the cluster must require passwords).
fn logs_in(db: &Database, role: &str, password: &str) -> bool {
    match Client::connect(&db.pg.url(role, password, "legacy"), NoTls) {
        Ok(mut client) => {
            let user: String = client
                .query_one("SELECT current_user::text", &[])
                .unwrap()
                .get(0);
            assert_eq!(user, role);
            true
        }
        Err(e) if e.code() == Some(&postgres::error::SqlState::INVALID_PASSWORD) => false,
        Err(e) => panic!("{role}: unexpected error {e}"),
    }
}

fn assert_no_secret(text: &str, passwords: &[&str]) {
    for password in passwords {
        assert!(!text.contains(password), "a password leaked: {text}");
    }
    assert!(!text.contains("SCRAM"), "a verifier leaked: {text}");
}

#[test]
fn deploy_twice_is_idempotent_and_the_roles_log_in_with_their_limits() {
    let db = Database::with("SELECT 1");
    let env = job_env(PASSWORDS, ["7", "8", "9", "5"]);

    let first = deploy_ok(&db, &env);
    let migrations = migration_count();
    assert_eq!(
        first
            .lines()
            .filter(|l| l.starts_with("migrations: applied "))
            .count(),
        migrations,
        "{first}"
    );
    assert!(first.ends_with(&role_lines([7, 8, 9, 5])), "{first}");
    assert_no_secret(&first, &PASSWORDS);

    let roles = "SELECT string_agg(format('%s %s %s', rolname, rolcanlogin, rolconnlimit), ', ' ORDER BY rolname)
                 FROM pg_roles WHERE rolname LIKE 'pizza\\_%'";
    assert_eq!(
        db.psql(roles),
        "pizza_admin_api t 5, pizza_login t 7, pizza_menu t 8, pizza_order t 9"
    );
    // Stored as SCRAM verifiers: the server never saw the passwords.
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_authid WHERE rolname LIKE 'pizza\\_%' AND rolpassword LIKE 'SCRAM-SHA-256$4096:%'"),
        "4"
    );

    db.require_passwords();
    for (role, password) in ROLES.into_iter().zip(PASSWORDS) {
        assert!(logs_in(&db, role, password), "{role} cannot log in");
        assert!(
            !logs_in(&db, role, "wrong"),
            "{role} logs in with a wrong password"
        );
    }

    // The second run applies nothing and leaves the migrations' records alone.
    let history = "SELECT string_agg(version || ' ' || applied_at, ', ' ORDER BY version) FROM schema_migrations";
    let before = db.psql(history);
    let second = deploy_ok(&db, &env);
    assert_eq!(
        second,
        format!("migrations: up to date\n{}", role_lines([7, 8, 9, 5]))
    );
    assert_eq!(db.psql(history), before);
    assert_eq!(
        db.psql(roles),
        "pizza_admin_api t 5, pizza_login t 7, pizza_menu t 8, pizza_order t 9"
    );
    for (role, password) in ROLES.into_iter().zip(PASSWORDS) {
        assert!(
            logs_in(&db, role, password),
            "{role} cannot log in after the second run"
        );
    }

    // New Secrets (rotation, a new budget): the next run applies them.
    let rotated = [
        "login-new-91c2",
        "menu-new-0d4e",
        "order-new-77a1",
        "admin-new-3c58",
    ];
    let third = deploy_ok(&db, &job_env(rotated, ["64", "32", "16", "8"]));
    assert_eq!(
        third,
        format!("migrations: up to date\n{}", role_lines([64, 32, 16, 8]))
    );
    assert_eq!(
        db.psql(roles),
        "pizza_admin_api t 8, pizza_login t 64, pizza_menu t 32, pizza_order t 16"
    );
    for ((role, old), new) in ROLES.into_iter().zip(PASSWORDS).zip(rotated) {
        assert!(
            logs_in(&db, role, new),
            "{role} cannot log in with its new password"
        );
        assert!(
            !logs_in(&db, role, old),
            "{role} still logs in with its old password"
        );
    }
}

#[test]
fn bad_settings_fail_in_one_line_and_change_nothing() {
    let good = job_env(PASSWORDS, ["64", "64", "64", "64"]);
    let without = |name: &str| -> Vec<(String, String)> {
        good.iter().filter(|(k, _)| k != name).cloned().collect()
    };
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        good.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == name {
                        value.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect()
    };
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            Vec::new(),
            "LOGIN_DB_PASSWORD is not set; LOGIN_DB_CONNECTION_LIMIT is not set; MENU_DB_PASSWORD is not set",
        ),
        (without("MENU_DB_PASSWORD"), "MENU_DB_PASSWORD is not set"),
        (with("ORDER_DB_PASSWORD", ""), "ORDER_DB_PASSWORD is empty"),
        (
            without("LOGIN_DB_CONNECTION_LIMIT"),
            "LOGIN_DB_CONNECTION_LIMIT is not set",
        ),
        (
            with("MENU_DB_CONNECTION_LIMIT", "-1"),
            "MENU_DB_CONNECTION_LIMIT must be a positive integer (got \"-1\")",
        ),
        (
            with("ORDER_DB_CONNECTION_LIMIT", "0"),
            "ORDER_DB_CONNECTION_LIMIT must be a positive integer (got \"0\")",
        ),
        (
            with("LOGIN_DB_CONNECTION_LIMIT", "sixty"),
            "LOGIN_DB_CONNECTION_LIMIT must be a positive integer (got \"sixty\")",
        ),
    ];
    let db = Database::with("SELECT 1");
    // Checked before connecting: the same error with a URL nothing listens on.
    let nowhere = format!(
        "postgres://postgres@127.0.0.1:{}/none",
        testkit::free_port()
    );
    for url in [db.url.as_str(), nowhere.as_str()] {
        for (env, expected) in &cases {
            let out = deploy(url, env);
            assert_eq!(out.status.code(), Some(1), "{expected}");
            assert!(out.stdout.is_empty(), "{expected}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.starts_with(&format!("pizza-db: error: {expected}")),
                "expected {expected:?}, got {stderr}"
            );
            assert_no_secret(&stderr, &PASSWORDS);
        }
    }
    assert_eq!(
        db.psql("SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'pizza\\_%'"),
        "0"
    );
}

#[test]
fn a_second_deploy_waits_for_the_lock() {
    let db = Database::with("SELECT 1");
    // Another migrator (here: this session) holds the lock.
    let mut holder = db.client();
    holder
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&pizza_db::MIGRATION_LOCK_KEY],
        )
        .unwrap();

    let mut child = deploy_command(&db.url, &job_env(PASSWORDS, ["64", "64", "64", "64"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pizza-db");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(
        first,
        "deploy: waiting for the migration lock: another migrator is running\n"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "deploy did not wait");
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"),
        "1"
    );
    // Nothing happened while it waited.
    assert_eq!(
        db.psql("SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );

    holder
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&pizza_db::MIGRATION_LOCK_KEY],
        )
        .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.starts_with("migrations: applied 0001_"), "{rest}");
    assert!(rest.ends_with(&role_lines([64, 64, 64, 64])), "{rest}");
    // The lock is released at the end of the run: a plain migrate gets it at once.
    assert!(
        pizza_db::migrate(&mut db.client(), &migrations_dir())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failed_role_change_quotes_no_secret() {
    let db = Database::with("SELECT 1");
    let env = job_env(PASSWORDS, ["64", "64", "64", "64"]);
    deploy_ok(&db, &env);
    // An owner without CREATEROLE: the migrations are done, ALTER ROLE is refused.
    db.psql(
        "CREATE ROLE weak LOGIN;
         GRANT CREATE ON SCHEMA public TO weak;
         GRANT SELECT, INSERT ON schema_migrations TO weak;",
    );
    let weak_url = db.pg.url("weak", "any", "legacy");
    for backtrace in [None, Some("1")] {
        let mut cmd = deploy_command(&weak_url, &env);
        if let Some(value) = backtrace {
            cmd.env("RUST_BACKTRACE", value);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("pizza-db: error: changing role pizza_login: "),
            "{stderr}"
        );
        assert!(stderr.contains("42501"), "{stderr}");
        if backtrace.is_none() {
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
        assert_no_secret(&stderr, &PASSWORDS);
        assert_no_secret(&String::from_utf8(out.stdout).unwrap(), &PASSWORDS);
    }
}

/// What runs `pizza-db deploy` gives it every variable it reads and the migrations: the
/// migration Job (from the image, whose folder the Job names) and `make up`.
#[test]
fn the_job_and_make_up_pass_every_variable() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();
    let job = read("spinkube/base/migrate/job.yaml");
    let dev_env = read("scripts/dev-env.sh");
    let dockerfile = read("crates/pizza-db/Dockerfile");
    for var in pizza_db::Deployment::variables().chain(["DATABASE_URL"]) {
        assert!(
            job.contains(&format!("- name: {var}\n")),
            "job.yaml lacks {var}"
        );
        assert!(
            dev_env.contains(&format!("{var}=")),
            "dev-env.sh lacks {var}"
        );
    }
    assert!(job.contains(
        r#"args: ["deploy", "--dir", "/usr/share/pizza-db/migrations", "--wait", "120"]"#
    ));
    assert!(dockerfile.contains("COPY migrations/*.sql /usr/share/pizza-db/migrations/\n"));
    assert!(dockerfile.contains("COPY --from=build /out/pizza-db /usr/local/bin/pizza-db\n"));
    assert!(job.contains(r#"command: ["/usr/local/bin/pizza-db"]"#));
    assert!(dev_env.contains(r#""$bin" deploy --dir "$ROOT/migrations""#));
}
