//! A database that misbehaves: a table locked by another session, a backend
//! killed in the middle of a statement. Every answer is a prompt 503 with
//! `Retry-After`, never a hang and never a 500.

use pizza_e2e::{TestApp, app};
use postgres::{Client, NoTls};
use serde_json::json;
use std::sync::Mutex;

/// The tests here lock tables of the shared app: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Asserts the answer of a database problem: 503, JSON, `Retry-After`.
fn assert_unavailable(r: &pizza_e2e::Resp) {
    r.assert_error(503);
    assert!(r.header("retry-after").is_some(), "{r:?}");
}

/// Runs `request` while another session holds `table` in ACCESS EXCLUSIVE
/// mode; the lock is released only after the answer came back.
fn while_locked(
    a: &TestApp,
    table: &str,
    request: impl FnOnce() -> pizza_e2e::Resp,
) -> pizza_e2e::Resp {
    let mut holder = Client::connect(&a.admin_url, NoTls).expect("connect as admin");
    let mut tx = holder.transaction().expect("begin");
    tx.batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .expect("lock");
    let answer = request();
    tx.rollback().expect("release the lock");
    answer
}

#[test]
fn a_locked_table_is_a_503_before_the_lock_is_released() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let a = app();
    let (id, pw, token) = a.member("locked");
    let r = while_locked(a, "orders", || a.get("/api/order/myorder/", Some(&token)));
    assert_unavailable(&r);
    let r = while_locked(a, "member", || {
        a.post("/api/login/", &json!({"id": id, "pw": pw}), None)
    });
    assert_unavailable(&r);
    // And the service recovers by itself once the lock is gone.
    assert_eq!(a.get("/api/order/myorder/", Some(&token)).status, 200);
}

#[test]
fn a_backend_killed_mid_statement_is_a_503() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let a = app();
    let (_, _, token) = a.member("killed");
    let mut holder = Client::connect(&a.admin_url, NoTls).expect("connect as admin");
    let mut tx = holder.transaction().expect("begin");
    tx.batch_execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .expect("lock");
    let killer_url = a.admin_url.clone();
    let killer = std::thread::spawn(move || {
        let mut admin = Client::connect(&killer_url, NoTls).expect("connect as admin");
        // Wait for the order service's statement to queue behind the lock, then kill it.
        for _ in 0..500 {
            let killed = admin
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE usename = 'pizza_order' AND wait_event_type = 'Lock'",
                    &[],
                )
                .expect("terminate");
            if killed.iter().any(|row| row.get::<_, bool>(0)) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        false
    });
    let r = a.get("/api/order/myorder/", Some(&token));
    let killed = killer.join().unwrap();
    tx.rollback().expect("release the lock");
    assert!(killed, "the statement never queued behind the lock");
    assert_unavailable(&r);
    let after = a.get("/api/order/myorder/", Some(&token));
    assert_eq!(after.status, 200, "{}", after.text);
}
