//! Operations: readiness and liveness, least-privilege roles, refusal to
//! serve with a weak secret, and Spin's own endpoints.

use pizza_e2e::{app, try_psql};
use serde_json::json;

fn role_url(role: &str, pw: &str) -> String {
    let a = app();
    format!("postgres://{role}:{pw}@{}/{}", a.db_host, a.db)
}

#[test]
fn readiness_and_liveness_answer_ok() {
    for path in [
        "/healthz",
        "/api/login/healthz",
        "/api/menu/healthz",
        "/api/order/healthz",
        "/api/admin/healthz",
    ] {
        let r = app().get(path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json["status"], "ok");
    }
    assert_eq!(
        app().get("/healthz", None).json["checks"],
        json!({"login": "ok", "menu": "ok", "order": "ok", "admin": "ok"})
    );
    assert_eq!(
        app().get("/api/admin/healthz", None).json["checks"],
        json!({"admin": "ok"})
    );
    assert_eq!(
        app().get("/api/login/healthz", None).json["checks"],
        json!({"login": "ok"})
    );
    let r = app().get("/livez", None);
    assert_eq!((r.status, r.json.clone()), (200, json!({"status": "ok"})));
    assert_eq!(app().get("/.well-known/spin/health", None).status, 200);
}

#[test]
fn readiness_is_503_while_the_database_is_unreachable() {
    let closed = testkit::free_port();
    let url = format!("postgres://pizza_login:x@127.0.0.1:{closed}/pizza");
    let pg = testkit::Postgres::start();
    let overrides = [("db_host", "127.0.0.1:*"), ("login_db_url", url.as_str())];
    let (host, down) = pizza_e2e::serve(&pg, "postgres", &overrides);
    let r = down.get("/api/login/healthz", None);
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json["checks"], json!({"login": "unavailable"}));
    assert_eq!(down.get("/livez", None).status, 200);
    let r = down.post("/api/login/", &json!({"id": "a", "pw": "bbbbbbbb"}), None);
    r.assert_error(503);
    drop(host);
}

#[test]
fn a_short_jwt_secret_refuses_to_serve() {
    let pg = testkit::Postgres::start();
    let (_host, weak) = pizza_e2e::serve(&pg, "postgres", &[("jwt_secret", "too-short")]);
    let r = weak.post("/api/login/", &json!({"id": "a", "pw": "bbbbbbbb"}), None);
    assert_eq!(r.assert_error(503), "service misconfigured");
    assert!(r.text.find("too-short").is_none());
}

#[test]
fn the_menu_role_cannot_insert_into_orders() {
    let err = try_psql(
        &role_url("pizza_menu", "menu-pw-e2e"),
        "INSERT INTO orders (member_id, bran_id, date, time) VALUES ('x', '1', '2025-01-01', '00:00:00')",
    )
    .unwrap_err();
    assert!(err.contains("permission denied for table orders"), "{err}");
    // The role itself works: it can read its own tables.
    assert_eq!(
        try_psql(
            &role_url("pizza_menu", "menu-pw-e2e"),
            "SELECT count(*) FROM pizza"
        )
        .unwrap(),
        "96"
    );
}

#[test]
fn service_roles_cannot_run_ddl_or_own_tables() {
    for (role, pw) in pizza_e2e::ROLE_PASSWORDS {
        let err = try_psql(&role_url(role, pw), "CREATE TABLE intruder (id int)").unwrap_err();
        assert!(
            err.contains("permission denied for schema public"),
            "{role}: {err}"
        );
    }
    let owners = app().sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner LIKE 'pizza\\_%'");
    assert_eq!(owners, "0");
    let err = try_psql(
        &role_url("pizza_login", "login-pw-e2e"),
        "SELECT * FROM orders",
    )
    .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
}

#[test]
fn unknown_paths_are_404() {
    assert_eq!(app().get("/api/login/nonexistent/", None).status, 404);
    assert_eq!(app().get("/api/health/", None).status, 404);
}

/// Runs `sql` as a service role; the error text, or `None` when it was allowed.
fn denial(role: &str, sql: &str) -> Option<String> {
    let pw = pizza_e2e::ROLE_PASSWORDS
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, pw)| *pw)
        .unwrap();
    try_psql(&role_url(role, pw), sql).err()
}

#[test]
fn each_role_has_exactly_the_privileges_its_statements_need() {
    let (id, _, _) = app().member("priv");
    // login may rewrite a password, and nothing else of a member.
    assert_eq!(
        denial(
            "pizza_login",
            &format!("UPDATE member SET member_pwd = member_pwd WHERE member_id = '{id}'")
        ),
        None
    );
    let err = denial(
        "pizza_login",
        &format!("UPDATE member SET member_nm = 'x' WHERE member_id = '{id}'"),
    );
    assert!(err.is_some_and(|e| e.contains("permission denied")));
    // order claims idempotency keys but never rewrites them. Its relay reads
    // the outbox and settles events, but never rewrites or deletes one; the
    // admin role may only send a dead letter back.
    for (role, sql) in [
        (
            "pizza_order",
            "UPDATE outbox SET handled_at = handled_at, attempts = attempts",
        ),
        (
            "pizza_admin_api",
            "UPDATE outbox SET dead_at = dead_at, attempts = attempts",
        ),
    ] {
        assert_eq!(denial(role, sql), None, "{role}: {sql}");
    }
    for (role, sql) in [
        (
            "pizza_admin_api",
            "UPDATE outbox SET handled_at = handled_at",
        ),
        ("pizza_admin_api", "UPDATE outbox SET payload = payload"),
        ("pizza_order", "UPDATE outbox SET payload = payload"),
        ("pizza_order", "DELETE FROM outbox"),
        ("pizza_menu", "SELECT count(*) FROM outbox"),
        ("pizza_login", "SELECT count(*) FROM cart"),
        ("pizza_order", "DELETE FROM cart"),
        ("pizza_order", "DELETE FROM order_payment"),
        (
            "pizza_order",
            "UPDATE order_idempotency SET request_hash = request_hash",
        ),
    ] {
        let err = denial(role, sql);
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("permission denied")),
            "{role}: {sql}: {err:?}"
        );
    }
    // Roles are granted by the admin tool only: no service role writes them;
    // login reads them into tokens. Order moves orders (state and version
    // only) and writes their history; menu touches neither.
    let denied = [
        (
            "pizza_login",
            "INSERT INTO member_role (member_id, role, granted_by) VALUES ('x', 'admin', 'x')",
        ),
        ("pizza_login", "DELETE FROM member_role"),
        (
            "pizza_order",
            "INSERT INTO member_role (member_id, role, granted_by) VALUES ('x', 'admin', 'x')",
        ),
        ("pizza_order", "SELECT count(*) FROM member_role"),
        ("pizza_order", "UPDATE orders SET member_id = member_id"),
        ("pizza_order", "UPDATE order_history SET reason = reason"),
        ("pizza_order", "DELETE FROM order_history"),
        ("pizza_menu", "SELECT count(*) FROM order_history"),
        ("pizza_menu", "UPDATE orders SET state = state"),
        ("pizza_menu", "SELECT count(*) FROM member_role"),
        // Admin changes prices, availability, branches and roles, and nothing
        // else: not what a pizza is, not orders, not passwords, not the audit
        // it writes. Of orders it reads only what the sales figures need,
        // never who ordered.
        ("pizza_admin_api", "UPDATE pizza SET size = size"),
        (
            "pizza_admin_api",
            "UPDATE pizza_types SET pizza_nm = pizza_nm",
        ),
        ("pizza_admin_api", "UPDATE branch SET bran_id = bran_id"),
        ("pizza_admin_api", "SELECT member_pwd FROM member"),
        ("pizza_admin_api", "UPDATE orders SET state = state"),
        (
            "pizza_admin_api",
            "INSERT INTO orders (member_id, bran_id, date, time) VALUES ('x', '1', 'x', 'x')",
        ),
        ("pizza_admin_api", "SELECT member_id FROM orders"),
        ("pizza_admin_api", "SELECT created_at FROM orders"),
        (
            "pizza_admin_api",
            "SELECT order_detail_id FROM order_detail",
        ),
        ("pizza_admin_api", "DELETE FROM admin_audit"),
        ("pizza_admin_api", "UPDATE admin_audit SET actor = actor"),
        ("pizza_admin_api", "DELETE FROM outbox"),
        ("pizza_admin_api", "DELETE FROM revoked_token"),
        // No service role but admin writes roles, cutoffs or the catalogue.
        (
            "pizza_order",
            "INSERT INTO member_token_cutoff VALUES ('x', now())",
        ),
        (
            "pizza_login",
            "INSERT INTO member_token_cutoff VALUES ('x', now())",
        ),
        ("pizza_order", "UPDATE pizza SET price = price"),
        ("pizza_order", "UPDATE branch SET is_open = is_open"),
        ("pizza_menu", "UPDATE pizza SET sold_out = sold_out"),
    ];
    for (role, sql) in denied {
        let err = denial(role, sql);
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("permission denied")),
            "{role}: {sql}: {err:?}"
        );
    }
    for (role, sql) in [
        ("pizza_login", "SELECT count(*) FROM member_role"),
        (
            "pizza_order",
            "UPDATE orders SET state = state, version = version WHERE false",
        ),
        ("pizza_order", "SELECT count(*) FROM order_history"),
        (
            "pizza_admin_api",
            "UPDATE pizza SET price = price, sold_out = sold_out WHERE false",
        ),
        (
            "pizza_admin_api",
            "UPDATE branch SET bran_nm = bran_nm, is_open = is_open WHERE false",
        ),
        ("pizza_admin_api", "SELECT count(member_id) FROM member"),
        (
            "pizza_admin_api",
            "SELECT order_id, bran_id, date, time, state FROM orders WHERE false",
        ),
        (
            "pizza_admin_api",
            "SELECT order_id, pizza_id, quantity, unit_price FROM order_detail WHERE false",
        ),
        ("pizza_admin_api", "SELECT count(*) FROM admin_audit"),
    ] {
        assert_eq!(denial(role, sql), None, "{role}: {sql}");
    }
    // No role may create temporary tables.
    for (role, _) in pizza_e2e::ROLE_PASSWORDS {
        let err = denial(role, "CREATE TEMP TABLE scratch (x int)");
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("permission denied")),
            "{role}: {err:?}"
        );
    }
}
