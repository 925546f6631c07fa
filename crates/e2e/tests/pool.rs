//! The shared PostgreSQL seen from a fleet of Spin pools, on `make up`'s
//! settings. Spin keeps up to 64 pooled connections per connection string in
//! every pod and never closes them; each service has a role of its own.
//! - Isolation: a fleet of menu pods holding all the connections the menu role
//!   may have leaves login and order their slots; menu itself answers 503 with
//!   `Retry-After`, and recovers when connections come back.
//! - Recycling: pooled connections the server closed for idleness
//!   (`idle_session_timeout`) are replaced without a failed request.

use pizza_e2e::{Resp, TestApp, client_address, start_own_app};
use postgres::{Client, NoTls};
use serde_json::json;

/// Each service role's connection limit: one pod's Spin pool (migration 0012).
const ROLE_CONNECTION_LIMIT: usize = 64;

/// Runs `request(client)` for `clients` clients at once; the answers.
fn burst(clients: usize, request: impl Fn(usize) -> Resp + Sync) -> Vec<Resp> {
    std::thread::scope(|s| {
        let request = &request;
        let running: Vec<_> = (0..clients).map(|c| s.spawn(move || request(c))).collect();
        running.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

fn statuses(answers: &[Resp]) -> Vec<u16> {
    answers.iter().map(|a| a.status).collect()
}

/// The number of server sessions each service role holds, as `role=count` pairs.
fn sessions_by_role(app: &TestApp) -> String {
    app.sql(
        "SELECT coalesce(string_agg(usename || '=' || n, ',' ORDER BY usename), '') FROM \
         (SELECT usename, count(*) AS n FROM pg_stat_activity \
          WHERE usename LIKE 'pizza\\_%' GROUP BY usename) s",
    )
}

/// Members with their tokens, registered `count` at a time.
fn members(app: &TestApp, count: usize) -> Vec<(String, String, String)> {
    (0..count).map(|_| app.member("pool")).collect()
}

#[test]
fn a_menu_fleet_at_its_connection_limit_leaves_login_and_order_their_slots() {
    let (pg, _host, app) = start_own_app();
    let people = members(&app, 64);
    let branch = app.get("/api/order/branch/", None).json[0]["bran_id"].clone();

    // Other menu pods' pools: connections as the menu role until the server refuses.
    let menu_url = format!(
        "{}?connect_timeout=5",
        pg.url("pizza_menu", "menu-pw-e2e", "pizza")
    );
    let mut fleet = Vec::new();
    let refusal = loop {
        match Client::connect(&menu_url, NoTls) {
            Ok(client) if fleet.len() < 4 * ROLE_CONNECTION_LIMIT => fleet.push(client),
            Ok(_) => break String::from("never refused"),
            Err(e) => break format!("{e:?}"),
        }
    };
    assert_eq!(
        fleet.len(),
        ROLE_CONNECTION_LIMIT,
        "the menu role opened {} connections before the server said: {refusal}",
        fleet.len()
    );
    assert!(refusal.contains("53300"), "{refusal}");

    // This pod's menu cannot get a connection: 503 with Retry-After, for every client.
    let menu = burst(128, |_| app.get("/api/menu/", None));
    for answer in &menu {
        answer.assert_error(503);
        assert!(answer.header("retry-after").is_some(), "{answer:?}");
    }

    // Login and order keep their slots, during a burst of each.
    let logins = burst(people.len(), |c| {
        let (id, pw, _) = &people[c];
        // Each from its own address, as members log in from their own devices.
        app.post_from(
            &client_address(),
            "/api/login/",
            &json!({"id": id, "pw": pw}),
        )
    });
    assert!(
        logins.iter().all(|a| a.status == 200),
        "logins while the menu role is full: {:?}",
        statuses(&logins)
    );
    let order = json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 1}]});
    let orders = burst(people.len(), |c| {
        app.post("/api/order/", &order, Some(&people[c].2))
    });
    assert!(
        orders.iter().all(|a| a.status == 201),
        "orders while the menu role is full: {:?}",
        statuses(&orders)
    );

    // The fleet shrinks (pods scaled in): this pod's menu serves again.
    drop(fleet);
    let menu = app.get("/api/menu/", None);
    assert_eq!(menu.status, 200, "{}", menu.text);
}

#[test]
fn connections_closed_for_idleness_are_replaced_without_a_failed_request() {
    let (_pg, host, app) = start_own_app();
    let people = members(&app, 16);
    let branch = app.get("/api/order/branch/", None).json[0]["bran_id"].clone();
    let order = json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "S", "quantity": 1}]});
    let traffic = || {
        burst(3 * people.len(), |c| {
            let (id, pw, token) = &people[c % people.len()];
            match c / people.len() {
                0 => app.get("/api/menu/", None),
                1 => app.post_from(
                    &client_address(),
                    "/api/login/",
                    &json!({"id": id, "pw": pw}),
                ),
                _ => app.post("/api/order/", &order, Some(token.as_str())),
            }
        })
    };
    let first = traffic();
    assert!(
        first.iter().all(|a| a.status < 300),
        "{:?}",
        statuses(&first)
    );
    let warm = sessions_by_role(&app);
    for role in ["pizza_login", "pizza_menu", "pizza_order"] {
        assert!(warm.contains(role), "no pooled {role} sessions: {warm}");
    }

    // The roles' documented timeout is a minute; here it is one second, so that
    // the server closes every pooled session while the pools hold them. The
    // setting holds for new sessions: the server ends the pooled ones first.
    for role in ["pizza_login", "pizza_menu", "pizza_order"] {
        app.sql(&format!(
            "ALTER ROLE {role} SET idle_session_timeout = '1s'"
        ));
        app.sql(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}'"
        ));
    }
    let reopened = traffic();
    assert!(
        reopened.iter().all(|a| a.status < 300),
        "requests on pools whose connections the server terminated: {:?}\n{}",
        statuses(&reopened),
        host.output()
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        sessions_by_role(&app),
        "",
        "idle sessions outlived the timeout"
    );

    let after = traffic();
    assert!(
        after.iter().all(|a| a.status < 300),
        "requests on pools whose connections the server closed: {:?}\n{}",
        statuses(&after),
        host.output()
    );
}

#[test]
fn every_service_role_is_limited_and_closes_idle_sessions() {
    let (_pg, _host, app) = start_own_app();
    let roles = app.sql(
        "SELECT string_agg(rolname || ' ' || rolconnlimit || ' ' || \
           coalesce((SELECT array_to_string(setconfig, ';') FROM pg_db_role_setting s \
                     WHERE s.setrole = r.oid AND s.setdatabase = 0), ''), E'\\n' ORDER BY rolname) \
         FROM pg_roles r WHERE rolname LIKE 'pizza\\_%'",
    );
    for line in roles.lines() {
        assert!(line.contains(" 64 "), "{line}");
        assert!(line.contains("idle_session_timeout=1min"), "{line}");
    }
    assert_eq!(
        roles.lines().count(),
        pizza_e2e::ROLE_PASSWORDS.len(),
        "{roles}"
    );
}
