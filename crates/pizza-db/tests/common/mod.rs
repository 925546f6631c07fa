//! What the database tests share: a throw-away cluster holding the database the Django
//! services leave behind (testkit's fixture, shared with the e2e tests).

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

/// The repository's migrations folder.
pub fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}
