//! The app through PgBouncer in transaction pooling mode, as CloudNativePG's
//! `Pooler` runs it (PgBouncer 1.24.1, `auth_query`, SCRAM): every service's
//! connection string points at PgBouncer, which gives each statement's
//! transaction any of a few server connections. Spin's pg client (and the
//! project's host) sends every statement as a *named* prepared statement, so
//! this works only with PgBouncer's protocol-level prepared statements
//! (`max_prepared_statements` > 0, PgBouncer ≥ 1.21); with them off, the Bind
//! lands on a server that never saw the Parse.
//!
//! Needs `target/tools/pgbouncer-1.24.1/bin/pgbouncer`: `bash scripts/pgbouncer.sh`.

use pizza_e2e::{
    ROLE_PASSWORDS, Resp, TestApp, client_address, pooler_variables, prepare_database, serve,
    unique_id,
};
use postgres::{Client, NoTls, SimpleQueryMessage};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Barrier;
use testkit::{Host, PgBouncer, Postgres};

/// Customers at once.
const CLIENTS: usize = 32;
/// Server connections PgBouncer may open per (database, role): far fewer
/// than the app's client connections, so they have to be shared.
const SERVER_POOL: usize = 4;

/// PostgreSQL, PgBouncer in front of it, and the app using PgBouncer; fields
/// drop in this order, the app first.
struct Stack {
    host: Host,
    app: TestApp,
    bouncer: PgBouncer,
    _pg: Postgres,
}

/// Starts the stack on `make up`'s PostgreSQL settings, migrated and seeded as
/// every e2e app, with PgBouncer configured as the Poolers (testkit reads
/// their settings file) but for [`SERVER_POOL`] and the given `settings`.
fn stack(settings: &[&str]) -> Stack {
    let pg = Postgres::start();
    let db = "pizza";
    pg.create_database(db);
    prepare_database(&pg.superuser_url(db), true);
    let pool = format!("default_pool_size={SERVER_POOL}");
    let settings: Vec<&str> = std::iter::once(pool.as_str())
        .chain(settings.iter().copied())
        .collect();
    let bouncer = PgBouncer::start(&pg, &settings);
    let vars = pooler_variables(&bouncer, db);
    let overrides: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (host, app) = serve(&pg, db, &overrides);
    Stack {
        host,
        app,
        bouncer,
        _pg: pg,
    }
}

/// One request of a visit: what it was, its status, and what was wrong with
/// the answer (None: as expected).
struct Step {
    what: &'static str,
    status: u16,
    problem: Option<String>,
}

fn check(steps: &mut Vec<Step>, what: &'static str, r: &Resp, want: u16, ok: bool) -> bool {
    let problem = (r.status != want || !ok)
        .then(|| format!("{what}: want {want}, got {} {}", r.status, r.text));
    let fine = problem.is_none();
    steps.push(Step {
        what,
        status: r.status,
        problem,
    });
    fine
}

/// A customer's visit: register, log in, read the menu and revalidate it
/// (304), place an order and send it again with the same `Idempotency-Key`
/// (the same order back), see it in the history, log out (the token is then
/// refused). Stops at the first answer that leaves nothing to go on.
fn visit(a: &TestApp, prefix: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let s = &mut steps;
    let (id, pw, from) = (unique_id(prefix), "correct horse battery", client_address());
    let r = a.post_from(
        &from,
        "/api/login/register/",
        &json!({"id": id, "pw": pw, "name": "Pooled"}),
    );
    if !check(s, "register", &r, 201, r.json["member_id"] == json!(id)) {
        return steps;
    }
    let r = a.post_from(&from, "/api/login/", &json!({"id": id, "pw": pw}));
    let token = r.json["token"].as_str().unwrap_or_default().to_owned();
    if !check(s, "login", &r, 200, !token.is_empty()) {
        return steps;
    }
    let r = a.get("/api/menu/", None);
    let etag = r.header("etag").unwrap_or_default().to_owned();
    let pizzas = r.json.as_array().map_or(0, Vec::len);
    check(s, "menu", &r, 200, pizzas == 96 && !etag.is_empty());
    let r = a.request("GET", "/api/menu/", &[("if-none-match", &etag)], None);
    check(s, "menu 304", &r, 304, true);

    let auth = format!("Bearer {token}");
    let key = format!("pooled-{id}");
    let body = json!({"branchId": "2", "lines": [
        {"name": "The Greek Pizza", "size": "XXL", "quantity": 2},
        {"name": "The Pepperoni Pizza", "size": "S", "quantity": 1}]})
    .to_string();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
        ("idempotency-key", key.as_str()),
    ];
    let first = a.request("POST", "/api/order/", &headers, Some(body.as_bytes()));
    let order_id = first.json["order_id"].as_i64();
    if !check(s, "order", &first, 201, order_id.is_some()) {
        return steps;
    }
    let again = a.request("POST", "/api/order/", &headers, Some(body.as_bytes()));
    check(s, "order replay", &again, 201, again.text == first.text);
    let r = a.get("/api/order/myorder/", Some(&token));
    let lines = r.json.as_array().cloned().unwrap_or_default();
    let one_order = lines.len() == 2 && lines.iter().all(|l| l["order_id"].as_i64() == order_id);
    check(s, "myorder", &r, 200, one_order);
    let r = a.get("/api/login/logout/", Some(&token));
    check(s, "logout", &r, 200, true);
    let r = a.get("/api/order/myorder/", Some(&token));
    check(s, "myorder after logout", &r, 401, true);
    steps
}

/// `CLIENTS` visits at once (released together), `rounds` each.
fn traffic(a: &TestApp, prefix: &str, rounds: usize) -> Vec<Step> {
    let start = Barrier::new(CLIENTS);
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    (0..rounds)
                        .flat_map(|_| visit(a, prefix))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    })
}

/// The rows of an admin console command (`SHOW ...`), by column name.
fn admin(bouncer: &PgBouncer, command: &str) -> Vec<HashMap<String, String>> {
    let mut console = Client::connect(&bouncer.admin_url(), NoTls).expect("admin console");
    console
        .simple_query(command)
        .unwrap_or_else(|e| panic!("{command}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                row.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name().to_owned(), row.get(i).unwrap_or("").to_owned()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> u64 {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in column {column}: {row:?}"))
}

#[test]
fn the_app_works_through_pgbouncer_in_transaction_mode() {
    let st = stack(&[]);
    let steps = traffic(&st.app, "pool", 2);
    let problems: Vec<&str> = steps.iter().filter_map(|s| s.problem.as_deref()).collect();
    assert!(
        problems.is_empty(),
        "{} of {} requests went wrong through PgBouncer, e.g. {:?}\nhost:\n{}\npgbouncer:\n{}",
        problems.len(),
        steps.len(),
        &problems[..problems.len().min(5)],
        st.host.output(),
        st.bouncer.log()
    );
    assert_eq!(steps.len(), CLIENTS * 2 * 9);
    // Every visit placed exactly one order, whatever the replays did.
    let orders = st.app.sql(
        "SELECT count(*) || '/' || count(DISTINCT member_id) FROM orders WHERE member_id LIKE 'pool%'",
    );
    assert_eq!(orders, format!("{n}/{n}", n = CLIENTS * 2));

    // Multiplexing: the app holds more client connections to PgBouncer than
    // PgBouncer holds server connections to PostgreSQL, and never more of
    // those than its pool size per role.
    let clients = admin(&st.bouncer, "SHOW CLIENTS");
    let servers = st.app.sql(
        "SELECT string_agg(usename || '=' || n, ',' ORDER BY usename) FROM
           (SELECT usename, count(*) AS n FROM pg_stat_activity
            WHERE datname = 'pizza' AND usename LIKE 'pizza\\_%' GROUP BY usename) s",
    );
    let servers: HashMap<&str, usize> = servers
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect();
    let mut report = Vec::new();
    let (mut all_clients, mut all_servers) = (0, 0);
    // The visits log in, read the menu and order: no admin requests.
    for (role, _) in ROLE_PASSWORDS
        .iter()
        .filter(|(r, _)| *r != "pizza_admin_api")
    {
        let c = clients.iter().filter(|r| r["user"] == *role).count();
        let s = servers.get(role).copied().unwrap_or(0);
        assert!(
            (1..=SERVER_POOL).contains(&s),
            "{role}: {s} server connections"
        );
        report.push(format!("{role}: {c} clients on {s} servers"));
        all_clients += c;
        all_servers += s;
    }
    eprintln!("{}", report.join("; "));
    assert!(
        all_clients > 2 * all_servers,
        "no multiplexing to speak of: {report:?}"
    );
    // deadpool's `Clean` reset (`CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT;
    // RESET ALL; ...`) passed every time through PgBouncer: a failed reset
    // drops the client connection, and PgBouncer logs every disconnection.
    let log = st.bouncer.log();
    let closed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("closing because") && l.contains("/pizza_"))
        .collect();
    assert!(closed.is_empty(), "app connections were closed: {closed:?}");
    // PgBouncer's prepared statements did the work: the app's statements were
    // parsed on the servers far fewer times than the app prepared them.
    let stats = admin(&st.bouncer, "SHOW STATS");
    let pizza = stats
        .iter()
        .find(|r| r["database"] == "pizza")
        .expect("SHOW STATS row of pizza");
    let (xacts, client_parses, server_parses, binds) = (
        number(pizza, "total_xact_count"),
        number(pizza, "total_client_parse_count"),
        number(pizza, "total_server_parse_count"),
        number(pizza, "total_bind_count"),
    );
    eprintln!(
        "SHOW STATS pizza: {xacts} transactions, {client_parses} client parses, {server_parses} server parses, {binds} binds"
    );
    assert!(
        client_parses > 0 && server_parses > 0 && server_parses * 4 < client_parses,
        "{pizza:?}"
    );
}

#[test]
fn without_pgbouncers_prepared_statements_the_app_fails() {
    let st = stack(&["max_prepared_statements=0"]);
    let mut seen = Vec::new();
    // A Bind has to land on another server than its Parse: with 32 clients on
    // 4 servers per role that happens in the first round; a few more rounds at
    // most keep this from depending on scheduling luck.
    for _ in 0..5 {
        seen.extend(traffic(&st.app, "nops", 1));
        // SQLSTATE 26000, `prepared statement "s<n>" does not exist`, logged
        // with the request that got the 500.
        let missing_statement = st.host.output().lines().any(|l| {
            l.contains("500")
                && l.contains("26000")
                && l.contains("prepared statement")
                && l.contains("does not exist")
        });
        if seen.iter().any(|s| s.status >= 500) && missing_statement {
            let failed = seen.iter().filter(|s| s.status >= 500).count();
            let mut by_step: Vec<&str> = seen
                .iter()
                .filter(|s| s.status >= 500)
                .map(|s| s.what)
                .collect();
            by_step.sort_unstable();
            by_step.dedup();
            eprintln!(
                "max_prepared_statements=0: {failed} of {} requests failed ({by_step:?})",
                seen.len()
            );
            return;
        }
    }
    panic!(
        "no request failed with max_prepared_statements=0 ({} requests)\nhost:\n{}",
        seen.len(),
        st.host.output()
    );
}

/// Orders from `members`, all at once.
fn orders_at_once(a: &TestApp, members: &[(String, String, String)]) -> Vec<Resp> {
    let order = json!({"branchId": "2", "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 1}]});
    std::thread::scope(|s| {
        let order = &order;
        let running: Vec<_> = members
            .iter()
            .map(|(_, _, token)| s.spawn(move || a.post("/api/order/", order, Some(token))))
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

#[test]
fn a_transaction_that_waits_too_long_for_a_server_gets_503_and_the_pool_recovers() {
    let st = stack(&[]);
    let members: Vec<_> = (0..4 * SERVER_POOL)
        .map(|_| st.app.member("qwait"))
        .collect();
    // Every order statement queues behind this lock for the role's lock_timeout
    // (1 s), holding one of the SERVER_POOL server connections; the others wait
    // in PgBouncer past its query_wait_timeout (0.5 s).
    let mut locker = Client::connect(&st.app.admin_url, NoTls).expect("connect");
    let mut lock = locker.transaction().expect("begin");
    lock.batch_execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .expect("lock");
    let blocked = orders_at_once(&st.app, &members);
    lock.rollback().expect("release");
    for answer in &blocked {
        answer.assert_error(503);
        assert!(answer.header("retry-after").is_some(), "{answer:?}");
    }
    assert!(
        st.bouncer.log().contains("query_wait_timeout"),
        "PgBouncer refused no waiting transaction:\n{}",
        st.bouncer.log()
    );
    // PgBouncer closed the connections it refused; Spin's pool replaces them.
    let after = orders_at_once(&st.app, &members);
    assert!(
        after.iter().all(|a| a.status == 201),
        "{:?}\n{}",
        after.iter().map(|a| a.status).collect::<Vec<_>>(),
        st.host.output()
    );
}

#[test]
fn connections_pgbouncer_closed_for_idleness_are_replaced_without_a_failed_request() {
    // The Poolers close Spin's idle connections after client_idle_timeout
    // (5 minutes); here after five seconds: longer than any request holds its
    // connection (a register keeps it while hashing, over a second on a busy
    // machine), so only connections idle in Spin's pool are closed.
    let st = stack(&["client_idle_timeout=5"]);
    let first = traffic(&st.app, "idle1", 1);
    assert!(
        first.iter().all(|s| s.problem.is_none()),
        "first round failed"
    );
    std::thread::sleep(std::time::Duration::from_secs(7));
    assert!(
        st.bouncer.log().contains("client_idle_timeout"),
        "PgBouncer closed no idle client:\n{}",
        st.bouncer.log()
    );
    let after = traffic(&st.app, "idle2", 1);
    let problems: Vec<&str> = after.iter().filter_map(|s| s.problem.as_deref()).collect();
    assert!(
        problems.is_empty(),
        "after PgBouncer closed the idle connections: {problems:?}\n{}",
        st.host.output()
    );
}
