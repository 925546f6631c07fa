//! Strict transaction mode: a request that leaves `BEGIN` open gets a 500 and
//! the transaction is rolled back; without the mode, Spin's leak is reproduced.

mod common;

use common::post;

fn setup() -> (testkit::Postgres, String) {
    let pg = testkit::Postgres::start();
    pg.create_database("fx");
    pg.psql("fx", "CREATE TABLE t (id int primary key)");
    let url = pg.superuser_url("fx");
    (pg, url)
}

#[test]
fn strict_mode_catches_leaked_begin() {
    let (pg, url) = setup();
    let host = common::start(
        &[("db_host", &pg.host_port())],
        &[("SPIN_HOST_STRICT_TX", "1")],
    );
    let (status, _) = post(
        &host,
        "/pg/batch",
        &[("x-db-url", &url)],
        "BEGIN\nINSERT INTO t VALUES (1)",
    );
    assert_eq!(status, 500, "{}", host.output());
    assert!(
        common::output_contains(&host, "strict-tx"),
        "{}",
        host.output()
    );
    assert!(
        common::output_contains(&host, "\"pg\""),
        "must name the component: {}",
        host.output()
    );
    // Rolled back: the row is gone and the next request is not inside a transaction.
    assert_eq!(pg.psql("fx", "SELECT count(*) FROM t").trim(), "0");
    let (status, body) = post(
        &host,
        "/pg/execute",
        &[("x-db-url", &url)],
        "SAVEPOINT probe",
    );
    assert_eq!(status, 200);
    // 25P01: SAVEPOINT can only be used in transaction blocks.
    assert!(body.contains("code: \"25P01\""), "{body}");
    // Committed work is fine.
    let (status, body) = post(
        &host,
        "/pg/batch",
        &[("x-db-url", &url)],
        "BEGIN\nINSERT INTO t VALUES (2)\nCOMMIT",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(pg.psql("fx", "SELECT count(*) FROM t").trim(), "1");
}

#[test]
fn without_strict_mode_the_transaction_leaks_like_spin() {
    let (pg, url) = setup();
    let host = common::start(&[("db_host", &pg.host_port())], &[]);
    let (status, _) = post(
        &host,
        "/pg/batch",
        &[("x-db-url", &url)],
        "BEGIN\nINSERT INTO t VALUES (1)",
    );
    assert_eq!(status, 200);
    // Same pooled session, still inside A's transaction.
    let (_, body) = post(
        &host,
        "/pg/query",
        &[("x-db-url", &url)],
        "SELECT count(*) FROM t",
    );
    assert!(body.contains("Int64(1)"), "{body}");
    assert_eq!(pg.psql("fx", "SELECT count(*) FROM t").trim(), "0");
}
