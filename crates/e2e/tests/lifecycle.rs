//! The order's life after it is placed, black-box: every transition of the
//! table, legal and illegal, by the member and by staff; `If-Match` (428,
//! 412, and 50 concurrent moves of one version); who may call each endpoint;
//! history rows and outbox events; live status by long-polling; `myorder`
//! with states; legacy orders as `completed`.

use pizza_e2e::{Resp, app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const STATES: [&str; 6] = [
    "placed",
    "accepted",
    "baking",
    "ready",
    "completed",
    "cancelled",
];

/// The table of legal moves, written out independently of the app's:
/// (from, to, by staff?, reason required?).
const LEGAL: [(&str, &str, bool, bool); 8] = [
    ("placed", "accepted", true, false),
    ("accepted", "baking", true, false),
    ("baking", "ready", true, false),
    ("ready", "completed", true, false),
    ("placed", "cancelled", false, false),
    ("placed", "cancelled", true, true),
    ("accepted", "cancelled", true, true),
    ("baking", "cancelled", true, true),
];

/// The path through the kitchen that reaches each state from `placed`.
fn path_to(state: &str) -> Vec<&'static str> {
    let chain = ["accepted", "baking", "ready", "completed"];
    match state {
        "placed" => vec![],
        "cancelled" => vec!["cancelled"],
        s => chain[..=chain.iter().position(|c| *c == s).unwrap()].to_vec(),
    }
}

/// A member granted `role`, with a token that carries it: (id, token).
fn with_role(prefix: &str, role: pizza_db::MemberRole) -> (String, String) {
    let (id, _, token) = app().member_with_role(prefix, &role);
    (id, token)
}

fn staff_of(branch: &str) -> (String, String) {
    with_role(
        "cook",
        pizza_db::MemberRole::Staff {
            branch: branch.into(),
        },
    )
}

fn admin() -> (String, String) {
    with_role("boss", pizza_db::MemberRole::Admin)
}

/// Places an order at `branch`; its id.
fn place(token: &str, branch: &str) -> i64 {
    let body = json!({"branchId": branch, "lines": [
        {"name": "The Greek Pizza", "size": "M", "quantity": 2}]});
    let r = app().post("/api/order/", &body, Some(token));
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["order_id"].as_i64().unwrap()
}

/// POSTs `body` to `path` with a token and optionally `If-Match`.
fn post_if(path: &str, token: Option<&str>, if_match: Option<&str>, body: &Value) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    if let Some(tag) = if_match {
        headers.push(("if-match", tag));
    }
    app().request("POST", path, &headers, Some(body.to_string().as_bytes()))
}

fn tag(version: i64) -> String {
    format!("\"{version}\"")
}

fn version_of(token: &str, order: i64) -> i64 {
    let r = app().get(&format!("/api/order/{order}/"), Some(token));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["version"].as_i64().unwrap()
}

fn transition(token: &str, order: i64, to: &str, reason: Option<&str>, version: i64) -> Resp {
    let mut body = json!({"to": to});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    post_if(
        &format!("/api/order/{order}/transition/"),
        Some(token),
        Some(&tag(version)),
        &body,
    )
}

fn cancel(token: &str, order: i64, version: i64) -> Resp {
    post_if(
        &format!("/api/order/{order}/cancel/"),
        Some(token),
        Some(&tag(version)),
        &json!({}),
    )
}

/// Moves `order` (at version 1, placed) along `path` as staff; its version.
fn walk(staff: &str, order: i64, path: &[&str]) -> i64 {
    let mut version = 1;
    for to in path {
        let reason = (*to == "cancelled").then_some("out of dough");
        let r = transition(staff, order, to, reason, version);
        assert_eq!(r.status, 200, "to {to}: {}", r.text);
        version = r.json["version"].as_i64().unwrap();
        assert_eq!(r.header("etag"), Some(tag(version).as_str()));
    }
    version
}

fn count(sql: &str) -> i64 {
    app().sql(sql).parse().unwrap()
}

#[test]
fn an_evening_in_the_kitchen_is_recorded_step_by_step() {
    let (member, _, token) = app().member("eve");
    let (cook, staff) = staff_of("1");
    let order = place(&token, "1");
    let r = app().get(&format!("/api/order/{order}/"), Some(&token));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.json["state"], "placed");
    assert_eq!(r.json["next"], json!(["cancelled"]));
    assert_eq!(r.json["lines"][0]["quantity"], 2);
    assert_eq!(r.json["history"][0]["to"], "placed");
    assert_eq!(r.json["history"][0]["by"], member.as_str());

    let version = walk(&staff, order, &path_to("completed"));
    assert_eq!(version, 5);
    let r = app().get(&format!("/api/order/{order}/"), Some(&token));
    assert_eq!(r.json["state"], "completed");
    assert_eq!(r.json["next"], json!([]));
    let steps: Vec<(String, String, String)> = r.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["from"].as_str().unwrap_or("-").to_owned(),
                s["to"].as_str().unwrap().to_owned(),
                s["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("-", "placed", &member),
        ("placed", "accepted", &cook),
        ("accepted", "baking", &cook),
        ("baking", "ready", &cook),
        ("ready", "completed", &cook),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(steps, expected);
    assert!(r.json["history"][4]["at"].as_str().unwrap().ends_with('Z'));
    let events = app().sql(&format!(
        "SELECT string_agg(event_type || ':' || (payload ->> 'version'), ',' ORDER BY event_id)
         FROM outbox WHERE aggregate_id = '{order}'"
    ));
    assert_eq!(
        events,
        "order.placed:1,order.accepted:2,order.baking:3,order.ready:4,order.completed:5"
    );
    // myorder keeps its fields and gains the state.
    let mine = app().get("/api/order/myorder/", Some(&token));
    let line = &mine.json[0];
    assert_eq!(line["order_id"], order);
    assert_eq!(line["state"], "completed");
    for field in [
        "bran_id",
        "pizza_id",
        "quantity",
        "date",
        "time",
        "unit_price",
    ] {
        assert!(line.get(field).is_some(), "{field}: {line}");
    }
}

#[test]
fn every_move_from_every_state_is_decided_by_the_table() {
    let (_, staff) = staff_of("2");
    for from in STATES {
        // 12 orders per member, within the limit of 20 in ten minutes.
        let (_, _, token) = app().member("table");
        for to in STATES {
            for by_staff in [false, true] {
                let order = place(&token, "2");
                let version = walk(&staff, order, &path_to(from));
                let legal = LEGAL
                    .iter()
                    .find(|(f, t, s, _)| *f == from && *t == to && *s == by_staff);
                let r = if by_staff {
                    transition(&staff, order, to, Some("because"), version)
                } else if to == "cancelled" {
                    cancel(&token, order, version)
                } else {
                    // The member has only the cancel endpoint; transition is 403.
                    let r = transition(&token, order, to, None, version);
                    r.assert_error(403);
                    continue;
                };
                let case = format!("{from} -> {to} by staff {by_staff}");
                match legal {
                    Some(_) => {
                        assert_eq!(r.status, 200, "{case}: {}", r.text);
                        assert_eq!(r.json["state"], to, "{case}");
                        assert_eq!(r.json["version"], version + 1, "{case}");
                    }
                    None => {
                        r.assert_error(409);
                        assert_eq!(r.json["state"], from, "{case}");
                        let allowed: Vec<&str> = LEGAL
                            .iter()
                            .filter(|(f, _, s, _)| *f == from && *s == by_staff)
                            .map(|(_, t, _, _)| *t)
                            .collect();
                        assert_eq!(r.json["allowed"], json!(allowed), "{case}");
                        assert_eq!(version_of(&token, order), version, "{case}: moved");
                    }
                }
            }
        }
    }
}

#[test]
fn staff_cancel_needs_a_reason_and_records_it() {
    let (_, _, token) = app().member("why");
    let (_, staff) = staff_of("3");
    let order = place(&token, "3");
    let version = walk(&staff, order, &["accepted"]);
    transition(&staff, order, "cancelled", None, version).assert_error(400);
    transition(&staff, order, "cancelled", Some("   "), version).assert_error(400);
    let long = "x".repeat(501);
    transition(&staff, order, "cancelled", Some(&long), version).assert_error(400);
    let r = transition(&staff, order, "cancelled", Some("oven broke"), version);
    assert_eq!(r.status, 200, "{}", r.text);
    let view = app().get(&format!("/api/order/{order}/"), Some(&token));
    assert_eq!(view.json["history"][2]["reason"], "oven broke");
    assert_eq!(view.json["history"][2]["role"], "staff");
    assert_eq!(
        app().sql(&format!(
            "SELECT payload ->> 'reason' FROM outbox
             WHERE aggregate_id = '{order}' AND event_type = 'order.cancelled'"
        )),
        "oven broke"
    );
    // The member may cancel only while it is placed.
    let other = place(&token, "3");
    let r = cancel(&token, other, 1);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "cancelled");
}

#[test]
fn changes_need_the_current_version() {
    let (_, _, token) = app().member("etag");
    let (_, staff) = staff_of("1");
    let order = place(&token, "1");
    let path = format!("/api/order/{order}/transition/");
    let body = json!({"to": "accepted"});
    post_if(&path, Some(&staff), None, &body).assert_error(428);
    for bad in ["*", "W/\"1\"", "1", "\"one\""] {
        post_if(&path, Some(&staff), Some(bad), &body).assert_error(412);
    }
    let r = post_if(&path, Some(&staff), Some("\"1\""), &body);
    assert_eq!(r.status, 200, "{}", r.text);
    // The same move again with the version it was made from is stale now.
    let r = post_if(&path, Some(&staff), Some("\"1\""), &json!({"to": "baking"}));
    r.assert_error(412);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.json["version"], 2);
    let cancel_path = format!("/api/order/{order}/cancel/");
    post_if(&cancel_path, Some(&token), None, &json!({})).assert_error(428);
}

#[test]
fn of_fifty_concurrent_moves_of_one_version_exactly_one_wins() {
    let (_, _, token) = app().member("race");
    let (_, staff) = staff_of("2");
    let order = place(&token, "2");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let staff = &staff;
                s.spawn(move || {
                    let to = if i % 2 == 0 { "accepted" } else { "cancelled" };
                    transition(staff, order, to, Some("race"), 1).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = statuses.iter().filter(|s| **s == 200).count();
    let stale = statuses.iter().filter(|s| **s == 412).count();
    assert_eq!((won, stale), (1, 49), "{statuses:?}");
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM order_history WHERE order_id = {order}"
        )),
        2
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM outbox WHERE aggregate_id = '{order}'"
        )),
        2
    );
    assert_eq!(version_of(&token, order), 2);
}

#[test]
fn each_endpoint_answers_each_role_as_it_should() {
    let (_, _, owner) = app().member("own");
    let (_, _, stranger) = app().member("stranger");
    let (_, elsewhere) = staff_of("4");
    let (_, staff) = staff_of("3");
    let (_, boss) = admin();
    let order = place(&owner, "3");
    let detail = format!("/api/order/{order}/");
    let queue = "/api/order/queue/?branch=3";
    let move_path = format!("/api/order/{order}/transition/");
    let cancel_path = format!("/api/order/{order}/cancel/");

    // Anonymous and forged: 401 everywhere.
    for token in [None, Some("not-a-token")] {
        app().get(&detail, token).assert_error(401);
        app().get(queue, token).assert_error(401);
        post_if(&move_path, token, Some("\"1\""), &json!({"to": "accepted"})).assert_error(401);
        post_if(&cancel_path, token, Some("\"1\""), &json!({})).assert_error(401);
    }
    // Another member: the order does not exist for them; staff endpoints are 403.
    app().get(&detail, Some(&stranger)).assert_error(404);
    cancel(&stranger, order, 1).assert_error(404);
    app().get(queue, Some(&stranger)).assert_error(403);
    transition(&stranger, order, "accepted", None, 1).assert_error(403);
    // The owner: sees it, may not run the kitchen.
    assert_eq!(app().get(&detail, Some(&owner)).status, 200);
    app().get(queue, Some(&owner)).assert_error(403);
    transition(&owner, order, "accepted", None, 1).assert_error(403);
    // Staff of another branch.
    app().get(&detail, Some(&elsewhere)).assert_error(404);
    app().get(queue, Some(&elsewhere)).assert_error(403);
    transition(&elsewhere, order, "accepted", None, 1).assert_error(403);
    cancel(&elsewhere, order, 1).assert_error(404);
    // Staff of the branch and an admin.
    let seen = app().get(&detail, Some(&staff));
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.json["next"], json!(["accepted", "cancelled"]));
    let listed = app().get(queue, Some(&staff));
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(
        listed.json["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["order_id"] == order)
    );
    assert_eq!(app().get(&detail, Some(&boss)).status, 200);
    assert_eq!(app().get(queue, Some(&boss)).status, 200);
    assert_eq!(transition(&staff, order, "accepted", None, 1).status, 200);
    assert_eq!(transition(&boss, order, "baking", None, 2).status, 200);
    // Bad ids are 404; a revoked token is 401 even with a bad id.
    for bad in ["0", "-1", "x", "99999999999", "2147483647"] {
        app()
            .get(&format!("/api/order/{bad}/"), Some(&owner))
            .assert_error(404);
    }
    let r = app().get("/api/login/logout/", Some(&owner));
    assert!(r.status < 300, "{}", r.text);
    app().get(&detail, Some(&owner)).assert_error(401);
    app().get("/api/order/x/", Some(&owner)).assert_error(401);
    // Refused before any statement (no If-Match), a revoked token is still 401.
    post_if(&cancel_path, Some(&owner), None, &json!({})).assert_error(401);
}

#[test]
fn the_queue_lists_open_orders_oldest_first_in_pages() {
    let (_, _, token) = app().member("pages");
    let (_, staff) = staff_of("4");
    let orders: Vec<i64> = (0..5).map(|_| place(&token, "4")).collect();
    walk(&staff, orders[1], &["accepted", "baking"]);
    walk(&staff, orders[2], &path_to("completed"));
    walk(&staff, orders[3], &["cancelled"]);
    let mine = |page: &Value| -> Vec<i64> {
        page["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].as_i64().unwrap())
            .filter(|id| orders.contains(id))
            .collect()
    };
    let all = app().get("/api/order/queue/?branch=4&limit=100", Some(&staff));
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(mine(&all.json), vec![orders[0], orders[1], orders[4]]);
    let baking = app().get("/api/order/queue/?branch=4&state=baking", Some(&staff));
    assert_eq!(mine(&baking.json), vec![orders[1]]);
    // Paging: one order per page, following next_cursor, sees each once.
    let mut seen = Vec::new();
    let mut cursor = orders[0] - 1;
    loop {
        let page = app().get(
            &format!("/api/order/queue/?branch=4&limit=1&cursor={cursor}"),
            Some(&staff),
        );
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(mine(&page.json));
        match page.json["next_cursor"].as_i64() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(seen, vec![orders[0], orders[1], orders[4]]);
    for bad in [
        "state=completed",
        "state=nope",
        "limit=0",
        "limit=101",
        "cursor=-3",
        "after=x",
    ] {
        app()
            .get(&format!("/api/order/queue/?branch=4&{bad}"), Some(&staff))
            .assert_error(400);
    }
    app()
        .get("/api/order/queue/", Some(&staff))
        .assert_error(400);
}

#[test]
fn a_legacy_order_reads_as_completed_and_cannot_move() {
    let (member, _, token) = app().member("legacy");
    let (_, staff) = staff_of("1");
    let id = count(&format!(
        "WITH legacy AS (
             INSERT INTO orders (member_id, bran_id, date, time)
             VALUES ('{member}', '1', '2015-01-01', '11:38:36') RETURNING order_id)
         SELECT order_id FROM legacy"
    ));
    let r = app().get(&format!("/api/order/{id}/"), Some(&token));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "completed");
    assert_eq!(r.json["history"], json!([]));
    let r = transition(&staff, id, "accepted", None, 1);
    r.assert_error(409);
    assert_eq!(r.json["state"], "completed");
    assert_eq!(r.json["allowed"], json!([]));
}

/// Sends a long-poll GET on another thread; the answer and when it came.
fn long_poll(path: String, token: String) -> std::thread::JoinHandle<(Resp, Instant)> {
    std::thread::spawn(move || {
        let r = app().get(&path, Some(&token));
        (r, Instant::now())
    })
}

#[test]
fn the_member_and_the_kitchen_see_a_change_within_two_seconds() {
    let (_, _, token) = app().member("live");
    let (_, staff) = staff_of("2");
    let order = place(&token, "2");
    let queue = app().get("/api/order/queue/?branch=2&limit=1", Some(&staff));
    let marker = queue.json["marker"].as_i64().unwrap();

    let member_wait = long_poll(format!("/api/order/{order}/?after=1"), token.clone());
    let kitchen_wait = long_poll(
        format!("/api/order/queue/?branch=2&limit=1&after={marker}"),
        staff.clone(),
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(!member_wait.is_finished(), "answered before any change");
    let moved_at = Instant::now();
    assert_eq!(transition(&staff, order, "accepted", None, 1).status, 200);

    let (r, at) = member_wait.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "accepted");
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert!(
        at - moved_at < Duration::from_secs(2),
        "{:?}",
        at - moved_at
    );
    let (q, at) = kitchen_wait.join().unwrap();
    assert_eq!(q.status, 200, "{}", q.text);
    assert!(q.json["marker"].as_i64().unwrap() > marker);
    assert!(
        at - moved_at < Duration::from_secs(2),
        "{:?}",
        at - moved_at
    );

    // A version the client does not have yet is answered at once.
    let r = app().get(&format!("/api/order/{order}/?after=1"), Some(&token));
    assert_eq!(r.json["version"], 2);
}

#[test]
fn a_wait_without_change_ends_in_304_after_about_25_seconds() {
    let (_, _, token) = app().member("quiet");
    let order = place(&token, "1");
    let started = Instant::now();
    let r = app().get(&format!("/api/order/{order}/?after=1"), Some(&token));
    let waited = started.elapsed();
    assert_eq!(r.status, 304, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert!(r.text.is_empty());
    assert!(
        waited >= Duration::from_secs(20) && waited < Duration::from_secs(40),
        "{waited:?}"
    );
}
