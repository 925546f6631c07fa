//! The benchmark's own PostgreSQL: a throw-away cluster (never the developer's
//! `.dev` database), migrated and seeded like the end-to-end tests do.

use std::path::{Path, PathBuf};
use testkit::Postgres;

/// The JWT secret the benchmarked app runs with.
const JWT_SECRET: &str = "bench-secret-0123456789-abcdefghij-0123456789";
/// The application database.
const DB: &str = "pizza";
/// Passwords of the service roles in the benchmark cluster.
const ROLE_PASSWORDS: [(&str, &str); 4] = [
    ("pizza_login", "login-pw-bench"),
    ("pizza_menu", "menu-pw-bench"),
    ("pizza_order", "order-pw-bench"),
    ("pizza_admin_api", "admin-pw-bench"),
];
/// The role the order service (and so pgbench) connects as.
pub const ORDER_ROLE: &str = "pizza_order";

/// The state of the order tables at one moment.
pub struct Mark {
    order_id: i64,
    event_id: i64,
    at: String,
}

/// A running, migrated and seeded database; stopped and removed on drop.
pub struct Database {
    pg: Postgres,
}

impl Database {
    /// Starts a cluster, then migrates, seeds from `data_dir` and sets the role passwords.
    pub fn start(root: &Path, data_dir: &Path) -> anyhow::Result<Database> {
        // pgbench drives up to 128 clients next to the host's pools (3 × 64), and the
        // bench measures the statement, not the disk: more slots, no fsync.
        let pg = Postgres::start_with(&["fsync=off", "timezone=Etc/UTC", "max_connections=400"]);
        pg.create_database(DB);
        let mut client = postgres::Client::connect(&pg.superuser_url(DB), postgres::NoTls)?;
        // As the migration Job and make up: migrations, then the roles (64 connections each).
        pizza_db::Deployment::with_passwords(&root.join("migrations"), &ROLE_PASSWORDS, 64)?
            .run(&mut client, || {})?;
        pizza_db::seed(&mut client, data_dir)?;
        Ok(Database { pg })
    }

    /// The Spin variables that point the app at this database.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("jwt_secret".to_owned(), JWT_SECRET.to_owned()),
            ("db_host".to_owned(), self.pg.host_port()),
            // Behind one trusted proxy, as on SpinKube: members' addresses are forwarded.
            ("trusted_proxy_hops".to_owned(), "1".to_owned()),
            // The bench's few members stand for thousands of customers: the order
            // rush measures placing orders, not the per-member limit's 429s.
            ("member_order_limit".to_owned(), "0".to_owned()),
        ];
        for (role, pw) in ROLE_PASSWORDS {
            vars.push((
                testkit::url_variable(role),
                format!("{}?connect_timeout=5", self.pg.url(role, pw, DB)),
            ));
        }
        vars
    }

    /// `(host, port, database, user, password)` of the order service's role.
    pub fn order_login(&self) -> (String, u16, &'static str, &'static str, &'static str) {
        let pw = ROLE_PASSWORDS
            .iter()
            .find(|(r, _)| *r == ORDER_ROLE)
            .map(|(_, p)| *p);
        (
            "127.0.0.1".to_owned(),
            self.pg.port(),
            DB,
            ORDER_ROLE,
            pw.unwrap_or_default(),
        )
    }

    /// The order role's connection limit (`None`: unlimited).
    pub fn order_connection_limit(&self) -> Option<usize> {
        let sql = format!("SELECT rolconnlimit FROM pg_roles WHERE rolname = '{ORDER_ROLE}'");
        let limit: i64 = self.pg.psql(DB, &sql).trim().parse().unwrap_or(-1);
        usize::try_from(limit).ok()
    }

    /// Makes new sessions of the order role log every statement with its
    /// parameters (`true`), or stop doing so (`false`).
    pub fn log_order_statements(&self, on: bool) {
        let sql = if on {
            format!("ALTER ROLE {ORDER_ROLE} SET log_statement = 'all'")
        } else {
            format!("ALTER ROLE {ORDER_ROLE} RESET log_statement")
        };
        self.pg.psql(DB, &sql);
    }

    /// The server's log file (the cluster writes it next to its data directory).
    pub fn server_log(&self) -> PathBuf {
        let data = PathBuf::from(self.pg.psql(DB, "SHOW data_directory").trim());
        data.parent().unwrap_or(&data).join("server.log")
    }

    /// Where the order tables stand now, for [`Database::reset`].
    pub fn mark(&self) -> Mark {
        let max = |sql: &str| self.pg.psql(DB, sql).trim().parse().unwrap_or(0);
        Mark {
            order_id: max("SELECT coalesce(max(order_id), 0) FROM orders"),
            event_id: max("SELECT coalesce(max(event_id), 0) FROM outbox"),
            at: self.pg.psql(DB, "SELECT now()").trim().to_owned(),
        }
    }

    /// Takes the tables the scenarios write back to `mark`: the orders (and
    /// their lines), outbox events, idempotency rows and login attempts made
    /// since, then vacuums them; so each runtime starts from the same data.
    pub fn reset(&self, mark: &Mark) {
        let at = &mark.at;
        for sql in [
            format!("DELETE FROM orders WHERE order_id > {}", mark.order_id),
            format!("DELETE FROM outbox WHERE event_id > {}", mark.event_id),
            format!("DELETE FROM order_idempotency WHERE created_at > '{at}'"),
            format!("DELETE FROM login_attempt WHERE window_start > '{at}'"),
            "VACUUM ANALYZE orders, order_detail, outbox, order_idempotency, login_attempt"
                .to_owned(),
        ] {
            self.pg.psql(DB, &sql);
        }
    }

    /// The ids of the seeded branches.
    pub fn branches(&self) -> Vec<String> {
        self.pg
            .psql(DB, "SELECT bran_id FROM branch ORDER BY bran_id")
            .lines()
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
            .collect()
    }
}
