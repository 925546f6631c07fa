//! The order service, black-box: branches, placing orders (validation,
//! atomicity, exact prices, shop time, outbox), idempotency under concurrency,
//! tokens, order history including legacy rows, least privilege, and a shop
//! time zone PostgreSQL does not know.

use pizza_e2e::tokens::{alg_none, hs256, now};
use pizza_e2e::{Resp, TestApp, app, try_psql};
use serde_json::{Value, json};

const GREEK: &str = "The Greek Pizza";
const PEPPERONI: &str = "The Pepperoni Pizza";

fn line(name: &str, size: &str, quantity: Value) -> Value {
    json!({"name": name, "size": size, "quantity": quantity})
}

fn order_body(branch: &str, lines: Vec<Value>) -> Value {
    json!({"branchId": branch, "lines": lines})
}

/// POST /api/order/ with a token and an optional Idempotency-Key.
fn place(on: &TestApp, token: &str, body: &Value, key: Option<&str>) -> Resp {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    on.request(
        "POST",
        "/api/order/",
        &headers,
        Some(body.to_string().as_bytes()),
    )
}

fn count(sql: &str) -> i64 {
    app().sql(sql).parse().unwrap()
}

fn orders_of(member: &str) -> i64 {
    count(&format!(
        "SELECT count(*) FROM orders WHERE member_id = '{member}'"
    ))
}

fn greek_and_pepperoni() -> Value {
    order_body(
        "2",
        vec![line(GREEK, "XXL", json!(2)), line(PEPPERONI, "S", json!(1))],
    )
}

#[test]
fn branches_are_listed_in_a_stable_order() {
    let r = app().get("/api/order/branch/", None);
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json.as_array().unwrap();
    let ids: Vec<&str> = list
        .iter()
        .map(|b| b["bran_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert!(
        list.iter()
            .all(|b| b["bran_nm"].as_str().is_some_and(|n| !n.is_empty())),
        "{}",
        r.text
    );
    assert_eq!(app().get("/api/order/branch/", None).json, r.json);
}

#[test]
fn an_order_is_placed_with_exact_prices_shop_time_and_an_event() {
    let (member, _, token) = app().member("ord");
    let r = place(app(), &token, &greek_and_pepperoni(), None);
    assert_eq!(r.status, 201, "{}", r.text);
    let order_id = r.json["order_id"].as_i64().expect("integer order_id");
    assert_eq!(r.json["total"], json!(81.65), "{}", r.text); // 2 × 35.95 + 9.75
    assert!(r.text.contains(r#""total":81.65"#), "{}", r.text);
    assert!(r.json["message"].as_str().is_some_and(|m| !m.is_empty()));

    let row = app().sql(&format!(
        "SELECT member_id || '|' || bran_id || '|' || (created_at IS NOT NULL)
                || '|' || (date ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') || '|' || (time ~ '^\\d{{2}}:\\d{{2}}:\\d{{2}}$')
                || '|' || (abs(extract(epoch FROM (date || ' ' || time)::timestamp - now() AT TIME ZONE 'Asia/Seoul')) < 120)
         FROM orders WHERE order_id = {order_id}"
    ));
    assert_eq!(row, format!("{member}|2|true|true|true|true"));
    let lines = app().sql(&format!(
        "SELECT string_agg(pizza_id || 'x' || quantity || '@' || unit_price, ',' ORDER BY order_detail_id) FROM order_detail WHERE order_id = {order_id}"
    ));
    assert_eq!(lines, "the_greek_xxlx2@35.95,pepperoni_sx1@9.75");

    let event = app().sql(&format!(
        "SELECT event_type || '|' || (published_at IS NULL) || '|' || payload::text FROM outbox WHERE aggregate_id = '{order_id}'"
    ));
    let (head, payload) = event.rsplit_once('|').unwrap();
    assert_eq!(head, "order.placed|true");
    let payload: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(payload["order_id"], json!(order_id));
    assert_eq!(payload["member_id"], json!(member));
    assert_eq!(payload["bran_id"], json!("2"));
    assert_eq!(payload["total"], json!(81.65));
    assert!(payload["date"].is_string() && payload["time"].is_string());
    assert_eq!(
        payload["lines"],
        json!([
            {"pizza_id": "the_greek_xxl", "quantity": 2, "unit_price": 35.95},
            {"pizza_id": "pepperoni_s", "quantity": 1, "unit_price": 9.75},
        ])
    );
}

#[test]
fn whole_totals_print_like_python_floats() {
    let (_, _, token) = app().member("whole");
    // big_meat_s costs 12: 12 × 3 = 36.
    let r = place(
        app(),
        &token,
        &order_body("1", vec![line("The Big Meat Pizza", "S", json!(3))]),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.text.contains(r#""total":36.0"#), "{}", r.text);
}

#[test]
fn my_orders_list_every_line_newest_first() {
    let (_, _, token) = app().member("hist");
    assert_eq!(
        app().get("/api/order/myorder/", Some(&token)).json,
        json!([])
    );
    let first = place(app(), &token, &greek_and_pepperoni(), None).json["order_id"]
        .as_i64()
        .unwrap();
    let second = place(
        app(),
        &token,
        &order_body("4", vec![line(PEPPERONI, "S", json!(3))]),
        None,
    )
    .json["order_id"]
        .as_i64()
        .unwrap();
    let r = app().get("/api/order/myorder/", Some(&token));
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = r.json.as_array().unwrap();
    let summary: Vec<(i64, &str, &str, i64, f64)> = rows
        .iter()
        .map(|l| {
            (
                l["order_id"].as_i64().unwrap(),
                l["bran_id"].as_str().unwrap(),
                l["pizza_id"].as_str().unwrap(),
                l["quantity"].as_i64().unwrap(),
                l["unit_price"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (second, "4", "pepperoni_s", 3, 9.75),
            (first, "2", "the_greek_xxl", 2, 35.95),
            (first, "2", "pepperoni_s", 1, 9.75),
        ]
    );
    for l in rows {
        assert!(
            l["date"].as_str().unwrap().len() == 10 && l["time"].as_str().unwrap().len() == 8,
            "{l}"
        );
    }
}

#[test]
fn legacy_orders_without_prices_or_instants_are_listed() {
    let (member, _, token) = app().member("legacy");
    let legacy_id = app().sql(&format!(
        "WITH o AS (INSERT INTO orders (member_id, bran_id, date, time, created_at)
                    VALUES ('{member}', '1', '2015-01-01', '11:38:36', NULL) RETURNING order_id)
         INSERT INTO order_detail (order_id, pizza_id, quantity, unit_price)
         SELECT order_id, 'hawaiian_m', 1, NULL FROM o RETURNING order_id"
    ));
    // psql prints the RETURNING value, then the command tag.
    let legacy_id: i64 = legacy_id.lines().next().unwrap().parse().unwrap();
    let new_id = place(
        app(),
        &token,
        &order_body("3", vec![line(GREEK, "S", json!(1))]),
        None,
    )
    .json["order_id"]
        .as_i64()
        .unwrap();
    let r = app().get("/api/order/myorder/", Some(&token));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json[0]["order_id"], json!(new_id));
    assert_eq!(
        r.json[1],
        json!({"order_id": legacy_id, "bran_id": "1", "pizza_id": "hawaiian_m", "quantity": 1,
               "date": "2015-01-01", "time": "11:38:36", "unit_price": null,
               "state": "completed"})
    );
    assert_eq!(r.json.as_array().unwrap().len(), 2);
}

#[test]
fn invalid_orders_are_400_naming_the_problem_and_write_nothing() {
    let (member, _, token) = app().member("inv");
    let ok = line(GREEK, "M", json!(1));
    let cases = [
        (order_body("99", vec![ok.clone()]), "branchId"),
        (json!({"lines": [ok]}), "branchId"),
        (order_body("", vec![ok.clone()]), "branchId"),
        (order_body("1", vec![]), "lines"),
        (order_body("1", vec![ok.clone(); 51]), "lines"),
        (json!({"branchId": "1"}), "lines"),
        (
            order_body("1", vec![ok.clone(), line("No Such Pizza", "M", json!(1))]),
            "lines[1]",
        ),
        (
            order_body(
                "1",
                vec![ok.clone(), line("The Brie Carre Pizza", "M", json!(1))],
            ),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), line(GREEK, "M", json!(0))]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), line(GREEK, "M", json!(100))]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), line(GREEK, "M", json!(-2))]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), line(GREEK, "M", json!(1.5))]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), line(GREEK, "M", json!("2"))]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), json!("pizza")]),
            "lines[1]",
        ),
        (
            order_body("1", vec![ok.clone(), json!({"name": GREEK, "size": "M"})]),
            "lines[1]",
        ),
    ];
    for (body, named) in cases {
        let r = place(app(), &token, &body, None);
        let detail = r.assert_error(400);
        assert!(detail.contains(named), "{body}: {detail}");
    }
    let r = app().request(
        "POST",
        "/api/order/",
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {token}")),
        ],
        Some(b"{not json"),
    );
    r.assert_error(400);
    assert_eq!(orders_of(&member), 0);
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM outbox WHERE payload ->> 'member_id' = '{member}'"
        )),
        0
    );
}

#[test]
fn a_failing_line_leaves_no_order_behind() {
    let (member, _, token) = app().member("atom");
    let body = order_body(
        "1",
        vec![
            line(GREEK, "L", json!(2)),
            line(PEPPERONI, "M", json!(1)),
            line("The Brie Carre Pizza", "XL", json!(1)),
        ],
    );
    let detail = place(app(), &token, &body, Some("atomic-1"))
        .assert_error(400)
        .to_owned();
    assert!(detail.contains("lines[2]"), "{detail}");
    assert_eq!(orders_of(&member), 0);
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM outbox WHERE payload ->> 'member_id' = '{member}'"
        )),
        0
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM order_idempotency WHERE member_id = '{member}'"
        )),
        0
    );
    // The key was not used up by the failed attempt.
    let fixed = order_body("1", vec![line(GREEK, "L", json!(2))]);
    assert_eq!(place(app(), &token, &fixed, Some("atomic-1")).status, 201);
}

#[test]
fn tokens_from_login_are_accepted_and_revoked_ones_refused() {
    let (_, _, token) = app().member("rev");
    assert_eq!(
        place(app(), &token, &greek_and_pepperoni(), Some("rev-1")).status,
        201
    );
    assert_eq!(app().get("/api/order/myorder/", Some(&token)).status, 200);
    assert_eq!(app().get("/api/login/logout/", Some(&token)).status, 200);
    // Refused before the body, and before a replay of the key it used.
    for r in [
        place(app(), &token, &greek_and_pepperoni(), None),
        place(app(), &token, &greek_and_pepperoni(), Some("rev-1")),
        place(app(), &token, &order_body("1", vec![]), None),
        app().get("/api/order/myorder/", Some(&token)),
    ] {
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.json["detail"], "unauthorized");
    }
}

#[test]
fn missing_forged_and_expired_tokens_are_401() {
    let (member, _, _) = app().member("forge");
    let t = now();
    let claims = |iat: u64, exp: u64| {
        format!(r#"{{"member_id":"{member}","iat":{iat},"exp":{exp},"jti":"j-{iat}"}}"#)
    };
    let forged = hs256(
        &claims(t, t + 3600),
        "another-secret-0123456789-abcdefghij-01",
    );
    let expired = hs256(&claims(t - 7200, t - 3600), &app().jwt_secret);
    let unsigned = alg_none(&claims(t, t + 3600));
    for token in [
        forged.as_str(),
        expired.as_str(),
        unsigned.as_str(),
        "garbage",
    ] {
        let r = place(app(), token, &greek_and_pepperoni(), None);
        assert_eq!(r.assert_error(401), "unauthorized");
        assert_eq!(
            app()
                .get("/api/order/myorder/", Some(token))
                .assert_error(401),
            "unauthorized"
        );
    }
    let r = app().post("/api/order/", &greek_and_pepperoni(), None);
    assert_eq!(r.assert_error(401), "unauthorized");
    // Authentication comes before the body is looked at.
    let r = app().request(
        "POST",
        "/api/order/",
        &[("content-type", "application/json")],
        Some(b"{bad"),
    );
    r.assert_error(401);
    app().get("/api/order/myorder/", None).assert_error(401);
    assert_eq!(orders_of(&member), 0);
    // A well-signed token made outside the login service works like Django's did.
    let good = hs256(&claims(t, t + 3600), &app().jwt_secret);
    assert_eq!(
        place(app(), &good, &greek_and_pepperoni(), None).status,
        201
    );
}

#[test]
fn an_idempotent_replay_returns_the_original_answer_and_creates_nothing() {
    let (member, _, token) = app().member("idem");
    let first = place(app(), &token, &greek_and_pepperoni(), Some("key-1"));
    assert_eq!(first.status, 201, "{}", first.text);
    // The same request, spelled differently, is a replay.
    let respelled = json!({"lines": [
        {"quantity": 2, "size": "XXL", "name": GREEK},
        {"size": "S", "name": PEPPERONI, "quantity": 1}], "branchId": "2"});
    for body in [greek_and_pepperoni(), respelled] {
        let again = place(app(), &token, &body, Some("key-1"));
        assert_eq!(again.status, 201, "{}", again.text);
        assert_eq!(again.text, first.text);
    }
    assert_eq!(orders_of(&member), 1);
    // The same key with another body is refused.
    let other = order_body("2", vec![line(GREEK, "XXL", json!(3))]);
    place(app(), &token, &other, Some("key-1")).assert_error(422);
    assert_eq!(orders_of(&member), 1);
    // Another key, or no key, is another order; another member's key space is separate.
    assert_ne!(
        place(app(), &token, &greek_and_pepperoni(), Some("key-2")).json["order_id"],
        first.json["order_id"]
    );
    assert_eq!(
        place(app(), &token, &greek_and_pepperoni(), None).status,
        201
    );
    let (other_member, _, other_token) = app().member("idem2");
    assert_eq!(
        place(app(), &other_token, &greek_and_pepperoni(), Some("key-1")).status,
        201
    );
    assert_eq!(orders_of(&member), 3);
    assert_eq!(orders_of(&other_member), 1);
}

#[test]
fn malformed_idempotency_keys_are_400() {
    let (member, _, token) = app().member("badkey");
    let long = "k".repeat(256);
    for key in ["", long.as_str(), "tab\there"] {
        let r = place(app(), &token, &greek_and_pepperoni(), Some(key));
        r.assert_error(400);
    }
    assert_eq!(orders_of(&member), 0);
    assert_eq!(
        place(
            app(),
            &token,
            &greek_and_pepperoni(),
            Some(&"k".repeat(255))
        )
        .status,
        201
    );
}

#[test]
fn twenty_concurrent_duplicates_create_exactly_one_order() {
    let (member, _, token) = app().member("race");
    let body = greek_and_pepperoni();
    let answers: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| s.spawn(|| place(app(), &token, &body, Some("race-key"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<&Resp> = answers.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty());
    for r in &answers {
        match r.status {
            201 => assert_eq!(r.json, created[0].json),
            409 => assert_eq!(
                r.assert_error(409),
                "request with this Idempotency-Key is in progress"
            ),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(orders_of(&member), 1);
    let order_id = created[0].json["order_id"].as_i64().unwrap();
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM order_detail WHERE order_id = {order_id}"
        )),
        2
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM outbox WHERE aggregate_id = '{order_id}'"
        )),
        1
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM order_idempotency WHERE member_id = '{member}'"
        )),
        1
    );
}

#[test]
fn the_order_role_reads_the_menu_but_cannot_write_it() {
    let a = app();
    let url = format!("postgres://pizza_order:order-pw-e2e@{}/{}", a.db_host, a.db);
    assert_eq!(try_psql(&url, "SELECT count(*) FROM pizza").unwrap(), "96");
    for sql in [
        "UPDATE pizza SET price = 0 WHERE pizza_id = 'pepperoni_s'",
        "INSERT INTO pizza (pizza_id, pizza_type_id, size, price) VALUES ('x', 'pepperoni', 'S', 1)",
        "DELETE FROM pizza WHERE pizza_id = 'pepperoni_s'",
        "UPDATE pizza_types SET pizza_nm = 'x'",
        "UPDATE orders SET bran_id = '1'",
        "DELETE FROM order_detail",
    ] {
        let err = try_psql(&url, sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    assert_eq!(
        app().sql("SELECT price FROM pizza WHERE pizza_id = 'pepperoni_s'"),
        "9.75"
    );
}

#[test]
fn wrong_methods_are_405() {
    app().get("/api/order/", None).assert_error(405);
    app()
        .post("/api/order/myorder/", &json!({}), None)
        .assert_error(405);
    app()
        .post("/api/order/branch/", &json!({}), None)
        .assert_error(405);
}

#[test]
fn an_unknown_shop_time_zone_falls_back_to_seoul_instead_of_failing() {
    let pg = testkit::Postgres::start();
    pg.create_database("tz");
    pizza_e2e::prepare_database(&pg.superuser_url("tz"), true);
    let (host, shop) = pizza_e2e::serve(&pg, "tz", &[("shop_timezone", "Mars/Olympus_Mons")]);
    let (_, _, token) = shop.member("tz");
    let r = place(&shop, &token, &greek_and_pepperoni(), None);
    assert_eq!(r.status, 201, "{}", r.text);
    let fresh = pizza_e2e::psql(
        &shop.admin_url,
        "SELECT abs(extract(epoch FROM (date || ' ' || time)::timestamp - now() AT TIME ZONE 'Asia/Seoul')) < 120 FROM orders",
    );
    assert_eq!(fresh, "t");
    assert!(
        host.output().contains("Mars/Olympus_Mons"),
        "the fallback is logged"
    );
    drop(host);
}
