//! `pizza-db seed --history`: the data set's year of orders loaded once, exactly (counts,
//! dates, lines, revenue to the cent), as completed orders of generated members who cannot
//! log in, spread over existing branches, numbered by the orders' own sequence so that live
//! orders keep their ids and new ones come after.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use common::{Database, migrations_dir};
use pizza::password::{Verdict, WriteFormat, verify};

/// The data set the repository carries.
fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/pizza-sales")
}

/// A data set file's rows without its header, each split on commas (the order files and
/// `pizzas.csv` are ASCII with no quoted field), read here independently of the tool.
fn rows(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
    text.lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

/// `"20.5"` → 2050.
fn cents(price: &str) -> i64 {
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// The year's revenue in cents: every line's quantity times its pizza's price.
fn data_set_revenue_cents() -> i64 {
    let prices: HashMap<String, i64> = rows("pizzas.csv")
        .into_iter()
        .map(|r| (r[0].clone(), cents(&r[3])))
        .collect();
    rows("order_details.csv")
        .iter()
        .map(|r| r[3].parse::<i64>().unwrap() * prices[&r[2]])
        .sum()
}

/// A database as a deployment leaves it (migrations), seeded with the menu and branches.
fn seeded() -> Database {
    let db = Database::with("SELECT 1");
    pizza_db::migrate(&mut db.client(), &migrations_dir()).unwrap();
    db.pizza_db(&["seed"]);
    db
}

/// `pizza-db seed --history`'s stdout, without its last line (the time taken), which it
/// checks: loaded, or already loaded.
fn seed_history(db: &Database, loads: bool) -> String {
    let out = db.pizza_db(&["seed", "--history"]);
    let (report, last) = out.trim_end().rsplit_once('\n').unwrap();
    let expected = if loads {
        "seed --history: loaded in "
    } else {
        "seed --history: already loaded, nothing changed ("
    };
    assert!(last.starts_with(expected), "{out}");
    format!("{report}\n")
}

const HISTORY: &str = "member_id LIKE 'history\\_%'";

#[test]
fn the_year_is_loaded_once_exactly_and_nobody_can_log_in_as_its_customers() {
    let db = seeded();
    let out = seed_history(&db, true);
    assert_eq!(
        out,
        "seed: pizza_types: 32 rows, 0 changed\n\
         seed: pizza: 96 rows, 0 changed\n\
         seed: branch: 4 rows, 0 changed\n\
         seed --history: member: 1000 rows, 1000 changed\n\
         seed --history: orders: 21350 rows, 21350 changed\n\
         seed --history: order_detail: 48620 rows, 48620 changed\n"
    );
    assert_eq!(
        db.psql(&format!("SELECT count(*) FROM orders WHERE {HISTORY}")),
        "21350"
    );
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*) FROM order_detail d JOIN orders o USING (order_id) WHERE o.{HISTORY}"
        )),
        "48620"
    );

    // Every order, in id order, is the data set's order of the same rank, with its date,
    // time and lines (pizza, quantity, the data set's price) in their order.
    let prices: HashMap<String, String> = rows("pizzas.csv")
        .into_iter()
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect();
    let mut lines: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows("order_details.csv") {
        let price = cents(&prices[&r[2]]);
        let price = format!("{}.{:02}", price / 100, price % 100);
        lines
            .entry(r[1].clone())
            .or_default()
            .push(format!("{} x{} @{price}", r[2], r[3]));
    }
    let expected: Vec<String> = rows("orders.csv")
        .into_iter()
        .map(|r| format!("{} {} {}", r[1], r[2], lines[&r[0]].join(", ")))
        .collect();
    let loaded: Vec<String> = db
        .client()
        .query(
            &format!(
                "SELECT o.date || ' ' || o.time || ' ' || string_agg(
                     format('%s x%s @%s', d.pizza_id, d.quantity, d.unit_price), ', '
                     ORDER BY d.order_detail_id)
                 FROM orders o JOIN order_detail d USING (order_id)
                 WHERE o.{HISTORY} GROUP BY o.order_id ORDER BY o.order_id"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(loaded.len(), expected.len());
    assert!(
        loaded == expected,
        "the loaded orders differ from the data set"
    );

    // Revenue to the cent, against the sum computed here from the CSV files.
    let revenue = data_set_revenue_cents();
    assert_eq!(
        db.psql(&format!(
            "SELECT sum(d.quantity * d.unit_price) FROM order_detail d
             JOIN orders o USING (order_id) WHERE o.{HISTORY}"
        )),
        format!("{}.{:02}", revenue / 100, revenue % 100)
    );

    // Completed, first version, created when the data set says, never in the kitchen's queue.
    assert_eq!(
        db.psql(&format!(
            "SELECT string_agg(DISTINCT state || ' v' || version, ',') FROM orders WHERE {HISTORY}"
        )),
        "completed v1"
    );
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*) FROM orders WHERE {HISTORY}
               AND created_at <> (date || ' ' || time)::timestamp AT TIME ZONE 'UTC'"
        )),
        "0"
    );
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*) FROM orders WHERE {HISTORY}
               AND state IN ('placed', 'paid', 'accepted', 'baking', 'ready')"
        )),
        "0"
    );

    // Every branch exists, and each of the four gets orders, in shares of 4 : 3 : 2 : 1.
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*) FROM orders o WHERE o.{HISTORY}
               AND NOT EXISTS (SELECT 1 FROM branch b WHERE b.bran_id = o.bran_id)"
        )),
        "0"
    );
    let shares = db.psql(&format!(
        "SELECT string_agg(bran_id || ':' || round(100.0 * n / 21350), ',' ORDER BY bran_id)
         FROM (SELECT bran_id, count(*) AS n FROM orders WHERE {HISTORY} GROUP BY bran_id) s"
    ));
    let shares: Vec<(String, i64)> = shares
        .split(',')
        .map(|s| {
            let (branch, share) = s.split_once(':').unwrap();
            (branch.to_owned(), share.parse().unwrap())
        })
        .collect();
    assert_eq!(
        shares.iter().map(|(b, _)| b.as_str()).collect::<Vec<_>>(),
        ["1", "2", "3", "4"]
    );
    for ((_, share), expected) in shares.iter().zip([40, 30, 20, 10]) {
        assert!(share.abs_diff(expected) <= 5, "{shares:?}");
    }
    // Each member orders at one branch only.
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*) FROM (SELECT member_id FROM orders WHERE {HISTORY}
             GROUP BY member_id HAVING count(DISTINCT bran_id) > 1) m"
        )),
        "0"
    );

    // 1,000 members, each with orders, each with Django's unusable password, which the
    // login's own check refuses whatever is typed.
    assert_eq!(
        db.psql(&format!(
            "SELECT count(*), count(*) FILTER (WHERE member_pwd ~ '^!([A-Za-z0-9]{{40}})$'),
                    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.member_id))
             FROM member m WHERE {HISTORY}"
        )),
        "1000|1000|1000"
    );
    assert_eq!(
        db.psql("SELECT member_nm FROM member WHERE member_id = 'history_0001'"),
        "History customer 1"
    );
    let stored = db.psql(&format!(
        "SELECT DISTINCT member_pwd FROM member WHERE {HISTORY}"
    ));
    assert_eq!(stored.lines().count(), 1, "{stored}");
    let suffix = stored.strip_prefix('!').unwrap();
    for guess in [
        stored.as_str(),
        suffix,
        "",
        "!",
        "history_0001",
        "History customer 1",
    ] {
        for format in [WriteFormat::Argon2id, WriteFormat::DjangoScrypt] {
            assert_eq!(
                verify(guess, &stored, format),
                Verdict::NoMatch,
                "{guess:?}"
            );
        }
    }
    // check-legacy names them for what they are, and finds nothing else to report.
    let legacy = db.pizza_db(&["check-legacy"]);
    for line in [
        "member passwords unusable (Django \"!\") [informational]: 1000 ",
        "check-legacy: 0 findings",
    ] {
        assert!(legacy.contains(line), "{legacy}");
    }

    // A second run changes nothing.
    let everything = "SELECT (SELECT count(*) FROM member), (SELECT count(*) FROM orders),
                             (SELECT count(*) FROM order_detail),
                             (SELECT max(order_id) FROM orders),
                             (SELECT md5(string_agg(o::text, '' ORDER BY order_id)) FROM orders o)";
    let before = db.psql(everything);
    assert_eq!(
        seed_history(&db, false),
        "seed: pizza_types: 32 rows, 0 changed\n\
         seed: pizza: 96 rows, 0 changed\n\
         seed: branch: 4 rows, 0 changed\n\
         seed --history: member: 1000 rows, 0 changed\n\
         seed --history: orders: 21350 rows, 0 changed\n\
         seed --history: order_detail: 48620 rows, 0 changed\n"
    );
    assert_eq!(db.psql(everything), before);
}

#[test]
fn live_orders_keep_their_ids_and_new_ones_come_after_the_history() {
    let db = seeded();
    let place = |member: &str| -> String {
        db.psql(&format!(
            "WITH o AS (INSERT INTO orders (member_id, bran_id, date, time, state)
                        VALUES ('{member}', '1', '2026-12-02', '12:00:00', 'placed')
                        RETURNING order_id)
             INSERT INTO order_detail (order_id, pizza_id, quantity, unit_price)
             SELECT order_id, 'hawaiian_m', 2, 13.25 FROM o RETURNING order_id"
        ))
    };
    let live = [place("alice"), place("bob")];
    assert_eq!(live, ["1", "2"]);

    seed_history(&db, true);
    assert_eq!(
        db.psql(
            "SELECT string_agg(order_id || ' ' || member_id || ' ' || state, ', ' ORDER BY order_id)
             FROM orders WHERE member_id IN ('alice', 'bob')"
        ),
        "1 alice placed, 2 bob placed"
    );
    assert_eq!(
        db.psql(
            "SELECT string_agg(order_id || ' ' || pizza_id, ', ' ORDER BY order_id)
             FROM order_detail WHERE order_id IN (1, 2)"
        ),
        "1 hawaiian_m, 2 hawaiian_m"
    );
    assert_eq!(
        db.psql(&format!(
            "SELECT min(order_id) || '-' || max(order_id) FROM orders WHERE {HISTORY}"
        )),
        "3-21352"
    );
    // The next live order is numbered after every id in use.
    assert_eq!(place("alice"), "21353");
    assert_eq!(db.psql("SELECT count(*) FROM orders"), "21353");
}

#[test]
fn an_account_someone_registered_under_a_history_id_stops_the_load() {
    let db = seeded();
    db.psql(
        "INSERT INTO member (member_id, member_pwd, member_nm)
         VALUES ('history_0042', 'pbkdf2_sha256$1000$salt$hash', 'Someone')",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_pizza-db"))
        .arg("--url")
        .arg(&db.url)
        .args(["seed", "--history"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run pizza-db");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "pizza-db: error: member \"history_0042\" exists and is not a history account; \
         nothing was loaded\n"
    );
    assert_eq!(
        db.psql(&format!(
            "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM member WHERE {HISTORY})"
        )),
        "0 1"
    );
}
