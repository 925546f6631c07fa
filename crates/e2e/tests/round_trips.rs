//! Statements per request: each request of the menu and order services runs
//! one statement of its own on PostgreSQL, its token's revocation check and
//! its idempotent replay included (a pooled connection's recycling, which
//! Spin runs on every checkout, and the test host's open-transaction check
//! are not the app's, and not counted).
//!
//! The server logs every statement of the menu and order roles
//! (`log_statement = all` for those roles only), and each request is counted
//! from the log lines it adds. The rare paths (a key held by a concurrent
//! request, a new catalogue) may take more, and are not measured here.

use pizza_e2e::{TestApp, start_own_app};
use serde_json::{Value, json};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use testkit::{Host, Postgres};

/// A cluster on `make up`'s settings whose menu and order roles log every
/// statement, and a host serving it.
fn start_logging_app() -> (Postgres, Host, TestApp) {
    let (pg, host, app) = start_own_app();
    app.sql("ALTER ROLE pizza_order SET log_statement = 'all'");
    app.sql("ALTER ROLE pizza_menu SET log_statement = 'all'");
    (pg, host, app)
}

/// What the test host (`SPIN_HOST_STRICT_TX`) asks after each request to
/// catch a transaction left open; not the app's.
const STRICT_TX_CHECK: &str = "SELECT now() <> statement_timestamp()";

/// Counts the statements the logging roles run while `request` runs.
struct StatementLog {
    file: PathBuf,
}

impl StatementLog {
    /// The statements (`execute` of the extended protocol, or a simple
    /// `statement`) logged while `request` ran, except the pool's recycling.
    fn during<T>(&self, request: impl FnOnce() -> T) -> (T, Vec<String>) {
        let start = std::fs::metadata(&self.file).map(|m| m.len()).unwrap();
        let answer = request();
        // The backend writes the line before it answers; give stderr a moment.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut text = String::new();
        let mut file = std::fs::File::open(&self.file).unwrap();
        file.seek(SeekFrom::Start(start)).unwrap();
        file.read_to_string(&mut text).unwrap();
        // A statement's further lines follow its `LOG:` line, each after a tab.
        let mut statements: Vec<String> = Vec::new();
        let mut in_statement = false;
        for line in text.lines() {
            if let Some((_, s)) = line
                .split_once("LOG:  execute ")
                .or_else(|| line.split_once("LOG:  statement: "))
            {
                statements.push(s.to_owned());
                in_statement = true;
            } else if in_statement && let Some(more) = line.strip_prefix('\t') {
                let last = statements.last_mut().expect("a statement");
                last.push('\n');
                last.push_str(more);
            } else {
                in_statement = false;
            }
        }
        statements.retain(|s| !s.starts_with("CLOSE ALL;") && s != STRICT_TX_CHECK);
        (answer, statements)
    }
}

fn order_body(branch: &Value) -> Value {
    json!({"branchId": branch, "lines": [{"name": "The Hawaiian Pizza", "size": "M", "quantity": 2}]})
}

#[test]
fn every_menu_and_order_request_is_one_statement() {
    let (pg, _host, app) = start_logging_app();
    let log = StatementLog {
        file: pg.log_file(),
    };
    let (_, _, token) = app.member("trips");
    let auth = format!("Bearer {token}");
    let branch = app.get("/api/order/branch/", None).json[0]["bran_id"].clone();
    // Warm the pool so that connecting (and the session's type lookups) is not counted.
    for _ in 0..3 {
        app.get("/api/menu/", None);
        app.get("/api/menu/types/", None);
        app.get("/api/order/myorder/", Some(&token));
    }

    let post_order = |key: &str| {
        let body = order_body(&branch).to_string();
        app.request(
            "POST",
            "/api/order/",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
                ("idempotency-key", key),
            ],
            Some(body.as_bytes()),
        )
    };
    let (created, sql) = log.during(|| post_order("trip-1"));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(sql.len(), 1, "a new order: {sql:#?}");
    let (replayed, sql) = log.during(|| post_order("trip-1"));
    assert_eq!(replayed.status, 201, "{}", replayed.text);
    assert_eq!(replayed.json, created.json);
    assert_eq!(sql.len(), 1, "a replayed order: {sql:#?}");

    let (mine, sql) = log.during(|| app.get("/api/order/myorder/", Some(&token)));
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(sql.len(), 1, "myorder: {sql:#?}");

    for path in ["/api/menu/", "/api/menu/types/"] {
        let (menu, sql) = log.during(|| app.get(path, None));
        assert_eq!(menu.status, 200, "{}", menu.text);
        assert_eq!(sql.len(), 1, "{path}: {sql:#?}");
        // One small row: the stored document, never the catalogue tables.
        assert!(sql[0].contains("menu_document"), "{path}: {sql:#?}");
        assert!(
            !sql[0].contains("FROM pizza"),
            "{path} read the catalogue: {sql:#?}"
        );
        let tag = menu.header("etag").expect("etag").to_owned();
        let (fresh, sql) =
            log.during(|| app.request("GET", path, &[("if-none-match", &tag)], None));
        assert_eq!(fresh.status, 304, "{}", fresh.text);
        assert_eq!(
            sql.len(),
            1,
            "{path} with a matching If-None-Match: {sql:#?}"
        );
    }

    // A revoked token costs one statement too, and still gets 401.
    assert_eq!(app.get("/api/login/logout/", Some(&token)).status, 200);
    let (refused, sql) = log.during(|| post_order("trip-2"));
    refused.assert_error(401);
    assert_eq!(sql.len(), 1, "an order with a revoked token: {sql:#?}");
    let (refused, sql) = log.during(|| app.get("/api/order/myorder/", Some(&token)));
    refused.assert_error(401);
    assert_eq!(sql.len(), 1, "myorder with a revoked token: {sql:#?}");
}
