//! What the database tests share: a throw-away cluster holding the database the Django
//! services leave behind (testkit's fixture, shared with the e2e tests).

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses part of this module"
)]

use std::path::PathBuf;

use postgres::{Client, NoTls};
use testkit::Postgres;

pub use testkit::DJANGO_DATABASE as DJANGO_SCHEMA;

/// A database of its own cluster.
pub struct Database {
    /// The cluster; dropped (stopped and removed) with the database.
    pub pg: Postgres,
    /// Superuser URL of the database.
    pub url: String,
}

impl Database {
    /// The database `legacy` of a new cluster, filled by `sql`.
    pub fn with(sql: &str) -> Database {
        let pg = Postgres::start();
        pg.create_database("legacy");
        pg.psql("legacy", sql);
        let url = pg.superuser_url("legacy");
        Database { pg, url }
    }

    /// A fresh connection as superuser.
    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).expect("connect as superuser")
    }

    /// `psql` on this database: the unaligned, tuples-only output, trimmed.
    pub fn psql(&self, sql: &str) -> String {
        self.pg.psql("legacy", sql).trim().to_owned()
    }

    /// Runs the built `pizza-db` binary against this database; returns stdout, panicking
    /// with stderr when it fails.
    pub fn pizza_db(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pizza-db"))
            .arg("--url")
            .arg(&self.url)
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("run pizza-db");
        assert!(
            out.status.success(),
            "pizza-db {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }
}

impl Database {
    /// Makes every role but `postgres` log in with its password (SCRAM) over TCP, instead
    /// of the test cluster's trust for everyone, and waits until the server applies it.
    pub fn require_passwords(&self) {
        let hba_file = self.psql("SHOW hba_file");
        std::fs::write(
            &hba_file,
            "local all all trust\n\
             host all postgres 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        self.psql("SELECT pg_reload_conf()");
        let probe = self.pg.url("no_such_role", "wrong", "legacy");
        for _ in 0..100 {
            match Client::connect(&probe, NoTls) {
                Err(e) if e.code() == Some(&postgres::error::SqlState::INVALID_PASSWORD) => {
                    return;
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        panic!("the server did not start asking for passwords");
    }
}

/// The repository's migrations folder.
pub fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

/// How many migrations the repository has (`migrations/*.sql`).
pub fn migration_count() -> usize {
    std::fs::read_dir(migrations_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}
