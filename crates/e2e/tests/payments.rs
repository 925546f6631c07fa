//! Carts, checkout and payments, black-box: the cart (`If-Match`, 412 under
//! concurrency), checkout (`Idempotency-Key`, never twice), each test card's
//! path through the saga to `paid` or `payment_failed`, webhooks (before the
//! answer, twice, never, forged, stale, replayed), paying again after a
//! decline, refunds on cancel, dead letters and their replay, the provider
//! down for 30 s in the middle of 200 checkouts, and two relays over 1,000
//! events. The relay runs when a test POSTs it, as a ticker would.

use pizza_e2e::{Resp, TestApp, app, start_own_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const BRANCH: &str = "2";

fn line(name: &str, size: &str, quantity: i64) -> Value {
    json!({"name": name, "size": size, "quantity": quantity})
}

fn greek(quantity: i64) -> Value {
    line("The Greek Pizza", "M", quantity)
}

/// Sends `method path` with a token and extra headers.
fn call(
    a: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    headers.extend_from_slice(extra);
    let body = body.map(|b| b.to_string().into_bytes());
    a.request(method, path, &headers, body.as_deref())
}

fn put_cart(a: &TestApp, token: &str, if_match: Option<&str>, body: &Value) -> Resp {
    let extra: Vec<(&str, &str)> = if_match.iter().map(|m| ("if-match", *m)).collect();
    call(a, "PUT", "/api/order/cart/", token, &extra, Some(body))
}

fn checkout(a: &TestApp, token: &str, key: Option<&str>, method: &str) -> Resp {
    let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
    let body = json!({"payment_method": method});
    call(
        a,
        "POST",
        "/api/order/cart/checkout/",
        token,
        &extra,
        Some(&body),
    )
}

/// Fills the member's cart with `lines` (whatever its version) and checks it
/// out with `method` under a fresh key; the order id.
fn buy(a: &TestApp, token: &str, method: &str, lines: Value) -> i64 {
    let cart = a.get("/api/order/cart/", Some(token));
    assert_eq!(cart.status, 200, "{}", cart.text);
    let tag = cart.header("etag").unwrap().to_owned();
    let put = put_cart(
        a,
        token,
        Some(&tag),
        &json!({"branchId": BRANCH, "lines": lines}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let key = pizza_e2e::unique_id("key");
    let r = checkout(a, token, Some(&key), method);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["state"], "payment_pending", "{}", r.text);
    r.json["order_id"].as_i64().unwrap()
}

fn order(a: &TestApp, token: &str, id: i64) -> Value {
    let r = a.get(&format!("/api/order/{id}/"), Some(token));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Runs relay passes until the order is in one of `wanted`; the order.
fn drive(a: &TestApp, token: &str, id: i64, wanted: &[&str], within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let pass = a.relay_pass();
        assert_eq!(pass.status, 200, "{}", pass.text);
        let now = order(a, token, id);
        if wanted.contains(&now["state"].as_str().unwrap()) {
            return now;
        }
        assert!(start.elapsed() < within, "order {id} stuck: {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The states the order's history went through, in order.
fn path_of(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap().to_owned())
        .collect()
}

/// Intents the test provider made for an order.
fn intents(a: &TestApp, id: i64) -> i64 {
    a.sql(&format!(
        "SELECT count(*) FROM test_provider_intent WHERE metadata ->> 'order_id' = '{id}'"
    ))
    .parse()
    .unwrap()
}

/// Makes the order's pending saga events due now (instead of waiting out
/// their backoff).
fn due_now(a: &TestApp, id: i64) {
    a.sql(&format!(
        "UPDATE outbox SET next_attempt_at = now() WHERE aggregate_id = '{id}' AND handled_at IS NULL"
    ));
}

/// The member cancels their order, which is at `order`'s version.
fn cancel(a: &TestApp, token: &str, order: &Value) {
    let id = &order["order_id"];
    let tag = format!("\"{}\"", order["version"]);
    let path = format!("/api/order/{id}/cancel/");
    let r = call(
        a,
        "POST",
        &path,
        token,
        &[("if-match", &tag)],
        Some(&json!({})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

fn staff_of(a: &TestApp, branch: &str) -> String {
    let role = pizza_db::MemberRole::Staff {
        branch: branch.into(),
    };
    a.member_with_role("cook", &role).2
}

fn admin(a: &TestApp) -> String {
    a.member_with_role("boss", &pizza_db::MemberRole::Admin).2
}

fn move_to(
    a: &TestApp,
    token: &str,
    id: i64,
    to: &str,
    version: i64,
    reason: Option<&str>,
) -> Resp {
    let tag = format!("\"{version}\"");
    let mut body = json!({"to": to});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    call(
        a,
        "POST",
        &format!("/api/order/{id}/transition/"),
        token,
        &[("if-match", &tag)],
        Some(&body),
    )
}

#[test]
fn a_member_fills_a_cart_checks_out_pays_and_the_kitchen_completes_it() {
    let a = app();
    let (_, _, token) = a.member("cart");
    let empty = a.get("/api/order/cart/", Some(&token));
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(
        empty.json,
        json!({"branchId": null, "lines": [], "total": 0.0, "version": 0})
    );
    assert_eq!(empty.header("etag"), Some("\"0\""));

    let body = json!({"branchId": BRANCH, "lines": [greek(2), line("The Hawaiian Pizza", "L", 1)]});
    put_cart(a, &token, None, &body).assert_error(428);
    put_cart(a, &token, Some("\"7\""), &body).assert_error(412);
    let bad = json!({"branchId": BRANCH, "lines": [line("No Such Pizza", "M", 1)]});
    put_cart(a, &token, Some("\"0\""), &bad).assert_error(400);
    put_cart(
        a,
        &token,
        Some("\"0\""),
        &json!({"branchId": "nope", "lines": []}),
    )
    .assert_error(400);
    let filled = put_cart(a, &token, Some("\"0\""), &body);
    assert_eq!(filled.status, 200, "{}", filled.text);
    assert_eq!(filled.json["version"], 1);
    assert_eq!(filled.header("etag"), Some("\"1\""));
    assert_eq!(filled.json["lines"][0]["available"], true);
    assert!(filled.json["lines"][0]["unit_price"].as_f64().unwrap() > 0.0);
    let stale = put_cart(a, &token, Some("\"0\""), &body);
    stale.assert_error(412);
    assert_eq!(stale.header("etag"), Some("\"1\""));
    let kept = a.get("/api/order/cart/", Some(&token));
    assert_eq!(kept.json, filled.json, "GET shows what PUT answered");

    checkout(a, &token, None, "tok_visa").assert_error(400);
    checkout(a, &token, Some("k-bad"), "tok visa").assert_error(400);
    let key = pizza_e2e::unique_id("checkout");
    let placed = checkout(a, &token, Some(&key), "tok_visa");
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.json["state"], "payment_pending");
    assert_eq!(
        checkout(a, &token, Some(&key), "tok_visa").json,
        placed.json,
        "a replay"
    );
    checkout(a, &token, Some(&key), "tok_chargeDeclined").assert_error(422);
    let emptied = a.get("/api/order/cart/", Some(&token));
    assert_eq!(
        (
            emptied.json["version"].clone(),
            emptied.json["lines"].clone()
        ),
        (json!(2), json!([]))
    );
    checkout(a, &token, Some(&pizza_e2e::unique_id("again")), "tok_visa").assert_error(409);
    let id = placed.json["order_id"].as_i64().unwrap();

    // Not the kitchen's until paid.
    let cook = staff_of(a, BRANCH);
    let queue = |a: &TestApp| -> Vec<i64> {
        let r = a.get(
            &format!("/api/order/queue/?branch={BRANCH}&limit=100"),
            Some(&cook),
        );
        let mut ids = Vec::new();
        let mut page = r;
        loop {
            assert_eq!(page.status, 200, "{}", page.text);
            ids.extend(
                page.json["orders"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["order_id"].as_i64().unwrap()),
            );
            match page.json["next_cursor"].as_i64() {
                Some(c) => {
                    page = a.get(
                        &format!("/api/order/queue/?branch={BRANCH}&limit=100&cursor={c}"),
                        Some(&cook),
                    )
                }
                None => return ids,
            }
        }
    };
    if order(a, &token, id)["state"] == "payment_pending" {
        assert!(
            !queue(a).contains(&id),
            "a payment_pending order is not in the queue"
        );
    }
    let paid = drive(a, &token, id, &["paid"], Duration::from_secs(20));
    assert_eq!(path_of(&paid), ["placed", "payment_pending", "paid"]);
    assert!(queue(a).contains(&id), "a paid order is in the queue");
    assert_eq!(intents(a, id), 1);

    let mut version = paid["version"].as_i64().unwrap();
    for to in ["accepted", "baking", "ready", "completed"] {
        let r = move_to(a, &cook, id, to, version, None);
        assert_eq!(r.status, 200, "{to}: {}", r.text);
        version = r.json["version"].as_i64().unwrap();
    }
    let done = order(a, &token, id);
    assert_eq!(
        path_of(&done),
        [
            "placed",
            "payment_pending",
            "paid",
            "accepted",
            "baking",
            "ready",
            "completed"
        ]
    );
    assert_eq!(intents(a, id), 1, "money moved once");
}

#[test]
fn each_test_card_ends_where_it_should() {
    let a = app();
    let (_, _, token) = a.member("cards");
    let cases = [
        ("tok_visa", "paid", None),
        ("tok_webhook_first", "paid", None),
        ("tok_webhook_twice", "paid", None),
        ("tok_delayed", "paid", None),
        ("tok_delayed_silent", "paid", None),
        (
            "tok_chargeDeclined",
            "payment_failed",
            Some("card_declined"),
        ),
        (
            "tok_chargeDeclinedInsufficientFunds",
            "payment_failed",
            Some("insufficient_funds"),
        ),
        (
            "tok_unknown_card",
            "payment_failed",
            Some("invalid_payment_method"),
        ),
    ];
    for (card, want, reason) in cases {
        let id = buy(a, &token, card, json!([greek(1)]));
        let end = drive(
            a,
            &token,
            id,
            &["paid", "payment_failed"],
            Duration::from_secs(30),
        );
        assert_eq!(end["state"], want, "{card}: {end}");
        let last = end["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["role"], "system", "{card}");
        assert_eq!(last["reason"].as_str(), reason, "{card}");
        assert_eq!(intents(a, id), 1, "{card}: one intent");
        let events = a.sql(&format!(
            "SELECT count(*) FROM outbox WHERE aggregate_id = '{id}' AND event_type LIKE 'payment.%'"
        ));
        assert_eq!(
            events, "1",
            "{card}: the answer and every webhook are one event"
        );
    }
}

#[test]
fn a_silent_delayed_payment_is_found_by_looking_again() {
    let a = app();
    let (_, _, token) = a.member("silent");
    let id = buy(a, &token, "tok_delayed_silent", json!([greek(1)]));
    let pass = a.relay_pass();
    assert_eq!(pass.status, 200, "{}", pass.text);
    let pending = order(a, &token, id);
    assert_eq!(pending["state"], "payment_pending");
    let attempts = a.sql(&format!(
        "SELECT attempts FROM outbox WHERE aggregate_id = '{id}' AND event_type = 'order.placed'"
    ));
    std::thread::sleep(Duration::from_secs(3));
    due_now(a, id);
    let paid = drive(a, &token, id, &["paid"], Duration::from_secs(20));
    assert_eq!(path_of(&paid), ["placed", "payment_pending", "paid"]);
    let receipts_for_order = a.sql(&format!(
        "SELECT count(*) FROM outbox WHERE aggregate_id = '{id}' AND event_type = 'payment.succeeded'"
    ));
    assert_eq!(receipts_for_order, "1");
    assert!(attempts.parse::<i64>().unwrap() >= 1);
}

#[test]
fn a_declined_order_is_paid_again_another_way_once_per_key() {
    let a = app();
    let (_, _, token) = a.member("retry");
    let (_, _, other) = a.member("nosy");
    let id = buy(a, &token, "tok_chargeDeclined", json!([greek(3)]));
    drive(a, &token, id, &["payment_failed"], Duration::from_secs(20));
    let path = format!("/api/order/{id}/pay/");
    let pay = |token: &str, key: Option<&str>, method: &str| {
        let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
        call(
            a,
            "POST",
            &path,
            token,
            &extra,
            Some(&json!({"payment_method": method})),
        )
    };
    pay(&token, None, "tok_visa").assert_error(400);
    pay(&other, Some("r1"), "tok_visa").assert_error(404);
    // The member's checkout key is the checkout's: on `pay/` it starts an attempt.
    let r1 = a.sql(&format!(
        "SELECT idem_key FROM order_idempotency WHERE (response ->> 'order_id')::int8 = {id}"
    ));
    let again = pay(&token, Some(&r1), "tok_visa");
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(again.json["attempt"], 2);
    assert_eq!(
        pay(&token, Some(&r1), "tok_visa").json,
        again.json,
        "a replay"
    );
    pay(&token, Some(&r1), "tok_webhook_first").assert_error(422);
    pay(&other, Some(&r1), "tok_visa").assert_error(404);
    let refused = pay(&token, Some("r2"), "tok_visa");
    refused.assert_error(409);
    assert_eq!(refused.json["state"], "payment_pending");
    let paid = drive(a, &token, id, &["paid"], Duration::from_secs(20));
    assert_eq!(
        path_of(&paid),
        [
            "placed",
            "payment_pending",
            "payment_failed",
            "payment_pending",
            "paid"
        ]
    );
    assert_eq!(intents(a, id), 2, "one intent per attempt");
    pay(&token, Some("r3"), "tok_visa").assert_error(409);
}

#[test]
fn cancelling_a_paid_order_refunds_it_once() {
    let a = app();
    let (_, _, token) = a.member("refund");
    let id = buy(a, &token, "tok_visa", json!([greek(1)]));
    let paid = drive(a, &token, id, &["paid"], Duration::from_secs(20));
    cancel(a, &token, &paid);
    let refunded = drive(a, &token, id, &["refunded"], Duration::from_secs(20));
    assert_eq!(
        path_of(&refunded),
        [
            "placed",
            "payment_pending",
            "paid",
            "cancelled",
            "refund_pending",
            "refunded"
        ]
    );
    let refunds = |a: &TestApp| {
        a.sql(&format!(
            "SELECT count(*) FROM test_provider_refund r JOIN test_provider_intent i USING (intent_id)
             WHERE i.metadata ->> 'order_id' = '{id}'"
        ))
    };
    assert_eq!(refunds(a), "1");
    // The cancellation's event handled again (a relay that died after acting) refunds nothing more.
    a.sql(&format!(
        "UPDATE outbox SET handled_at = NULL, next_attempt_at = now() WHERE aggregate_id = '{id}' AND event_type IN ('order.cancelled', 'refund.succeeded')"
    ));
    for _ in 0..3 {
        a.relay_pass();
    }
    assert_eq!(refunds(a), "1");
    assert_eq!(order(a, &token, id)["state"], "refunded");

    // Staff cancel a paid order the kitchen accepted: refunded too. An unpaid
    // order cancelled refunds nothing.
    let cook = staff_of(a, BRANCH);
    let id = buy(a, &token, "tok_visa", json!([greek(2)]));
    let paid = drive(a, &token, id, &["paid"], Duration::from_secs(20));
    let accepted = move_to(
        a,
        &cook,
        id,
        "accepted",
        paid["version"].as_i64().unwrap(),
        None,
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let v = accepted.json["version"].as_i64().unwrap();
    move_to(a, &cook, id, "cancelled", v, None).assert_error(400);
    let cancelled = move_to(a, &cook, id, "cancelled", v, Some("oven broke"));
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    drive(a, &token, id, &["refunded"], Duration::from_secs(20));
    let failed = buy(a, &token, "tok_chargeDeclined", json!([greek(1)]));
    let f = drive(
        a,
        &token,
        failed,
        &["payment_failed"],
        Duration::from_secs(20),
    );
    cancel(a, &token, &f);
    for _ in 0..3 {
        a.relay_pass();
    }
    assert_eq!(
        order(a, &token, failed)["state"],
        "cancelled",
        "nothing was taken"
    );
}

#[test]
fn webhooks_need_a_fresh_signature_used_once() {
    let a = app();
    let secret = b"whsec_test_pizza";
    let body =
        json!({"id": "evt_x", "type": "customer.created", "data": {"object": {}}}).to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let post = |signature: Option<&str>, body: &str| {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(s) = signature {
            headers.push(("webhook-signature", s));
        }
        a.request(
            "POST",
            "/api/order/payments/webhook/",
            &headers,
            Some(body.as_bytes()),
        )
    };
    post(None, &body).assert_error(400);
    let forged = pizza::payments::signature::sign(b"not the secret", now, body.as_bytes());
    post(Some(&forged), &body).assert_error(400);
    let stale = pizza::payments::signature::sign(secret, now - 301, body.as_bytes());
    post(Some(&stale), &body).assert_error(400);
    let good = pizza::payments::signature::sign(secret, now, body.as_bytes());
    let tampered = body.replace("customer", "customer2");
    post(Some(&good), &tampered).assert_error(400);
    let r = post(Some(&good), &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"received": true}));
    post(Some(&good), &body).assert_error(400);
    let respelt = good.replace(",", " , ");
    post(Some(&respelt), &body).assert_error(400);
    let not_event = "[1,2]";
    let signed = pizza::payments::signature::sign(secret, now, not_event.as_bytes());
    post(Some(&signed), not_event).assert_error(400);
}

#[test]
fn concurrent_cart_changes_and_checkouts_go_through_once() {
    let a = app();
    let (_, _, token) = a.member("race");
    let first = put_cart(
        a,
        &token,
        Some("\"0\""),
        &json!({"branchId": BRANCH, "lines": [greek(1)]}),
    );
    assert_eq!(first.status, 200, "{}", first.text);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|n| {
                let token = &token;
                s.spawn(move || {
                    put_cart(
                        a,
                        token,
                        Some("\"1\""),
                        &json!({"branchId": BRANCH, "lines": [greek(n % 9 + 1)]}),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(a.get("/api/order/cart/", Some(&token)).json["version"], 2);

    let answers: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let token = &token;
                s.spawn(move || checkout(a, token, Some(&pizza_e2e::unique_id("dup")), "tok_visa"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<&Resp> = answers.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        created.len(),
        1,
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 201) {
        r.assert_error(409);
    }
}

#[test]
fn a_step_that_keeps_failing_is_dead_lettered_and_an_admin_replays_it() {
    let a = app();
    let (_, _, token) = a.member("down");
    let boss = admin(a);
    let id = buy(a, &token, "tok_provider_down", json!([greek(1)]));
    let event = a.sql(&format!(
        "SELECT event_id FROM outbox WHERE aggregate_id = '{id}' AND event_type = 'order.placed'"
    ));
    let mut tries = 0;
    while a.sql(&format!(
        "SELECT dead_at IS NOT NULL FROM outbox WHERE event_id = {event}"
    )) == "f"
    {
        due_now(a, id);
        a.relay_pass();
        tries += 1;
        assert!(tries < 40, "never dead-lettered");
    }
    assert_eq!(
        a.sql(&format!(
            "SELECT attempts FROM outbox WHERE event_id = {event}"
        )),
        "10"
    );
    assert_eq!(order(a, &token, id)["state"], "payment_pending");
    assert_eq!(intents(a, id), 0, "the provider never took it");

    a.get("/api/admin/outbox/dead/", Some(&token))
        .assert_error(403);
    a.get("/api/admin/outbox/dead/?limit=0", Some(&boss))
        .assert_error(400);
    let mut cursor = 0;
    let found = loop {
        let page = a.get(
            &format!("/api/admin/outbox/dead/?cursor={cursor}&limit=100"),
            Some(&boss),
        );
        assert_eq!(page.status, 200, "{}", page.text);
        let hit = page.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_id"].as_i64() == event.parse().ok())
            .cloned();
        match (hit, page.json["next_cursor"].as_i64()) {
            (Some(e), _) => break e,
            (None, Some(c)) => cursor = c,
            (None, None) => panic!("event {event} not listed"),
        }
    };
    assert_eq!(found["event_type"], "order.placed");
    assert!(
        found["last_error"].as_str().unwrap().contains("503"),
        "{found}"
    );

    let replay = |id: &str| {
        call(
            a,
            "POST",
            &format!("/api/admin/outbox/{id}/replay/"),
            &boss,
            &[],
            None,
        )
    };
    replay("999999999").assert_error(404);
    let r = replay(&event);
    assert_eq!(r.status, 200, "{}", r.text);
    replay(&event).assert_error(404);
    assert_eq!(
        a.sql(&format!(
            "SELECT attempts, dead_at IS NULL FROM outbox WHERE event_id = {event}"
        )),
        "0|t"
    );
    assert_eq!(
        a.sql(&format!(
            "SELECT count(*) FROM admin_audit WHERE subject = 'event:{event}'"
        )),
        "1"
    );
    a.relay_pass();
    assert_eq!(
        a.sql(&format!(
            "SELECT attempts FROM outbox WHERE event_id = {event}"
        )),
        "1",
        "tried again"
    );
}

/// Checks out `n` orders, `members` members sharing them (each member may
/// place 20 orders per ten minutes); (order id, member token, card) each.
fn checkouts(
    a: &TestApp,
    n: usize,
    cards: &[&'static str],
    during: impl Fn(usize),
) -> Vec<(i64, String, &'static str)> {
    let tokens: Vec<String> = (0..n.div_ceil(20)).map(|_| a.member("bulk").2).collect();
    (0..n)
        .map(|i| {
            during(i);
            let token = &tokens[i / 20];
            let card = cards[i % cards.len()];
            (buy(a, token, card, json!([greek(1)])), token.clone(), card)
        })
        .collect()
}

/// Runs relay passes from `relays` threads until `done` holds.
fn relay_until(a: &TestApp, relays: usize, within: Duration, done: impl Fn() -> bool + Sync) {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..relays {
            s.spawn(|| {
                while !done() {
                    assert!(start.elapsed() < within, "the relays did not finish");
                    let pass = a.relay_pass();
                    assert_eq!(pass.status, 200, "{}", pass.text);
                    if pass.json["claimed"] == 0 {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            });
        }
    });
}

#[test]
fn the_provider_down_30_s_during_200_checkouts_loses_nothing_and_charges_once() {
    let (_pg, _host, a) = start_own_app();
    let a = &a;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let orders = std::thread::scope(|s| {
        // A ticker, as make up's, while members check out.
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                a.relay_pass();
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        let orders = checkouts(
            a,
            200,
            &["tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined"],
            |i| {
                if i == 50 {
                    a.sql("INSERT INTO test_provider_outage (id, down_until) VALUES (1, now() + interval '30 seconds')");
                }
            },
        );
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        orders
    });
    let ids: Vec<String> = orders.iter().map(|(id, _, _)| id.to_string()).collect();
    let list = ids.join(",");
    let unsettled = || {
        a.sql(&format!(
            "SELECT count(*) FROM orders WHERE order_id IN ({list}) AND state NOT IN ('paid', 'payment_failed')"
        )) != "0"
    };
    // Backoff after a 30 s outage: at most 32 s + 60 s between tries.
    relay_until(a, 2, Duration::from_secs(150), || !unsettled());
    for (id, token, card) in &orders {
        let end = order(a, token, *id);
        let want = if *card == "tok_chargeDeclined" {
            "payment_failed"
        } else {
            "paid"
        };
        assert_eq!(end["state"], want, "order {id}: {end}");
    }
    let charged_twice = a.sql(&format!(
        "SELECT count(*) FROM (SELECT metadata ->> 'order_id' FROM test_provider_intent
          WHERE metadata ->> 'order_id' IN ({}) GROUP BY 1 HAVING count(*) > 1) twice",
        ids.iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",")
    ));
    assert_eq!(charged_twice, "0");
    assert_eq!(
        a.sql(&format!(
            "SELECT count(*) FROM test_provider_intent WHERE metadata ->> 'order_id' IN ({})",
            ids.iter()
                .map(|i| format!("'{i}'"))
                .collect::<Vec<_>>()
                .join(",")
        )),
        "200",
        "one intent per order"
    );
    assert_eq!(
        a.sql("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL"),
        "0"
    );
    let retried =
        a.sql("SELECT count(*) FROM outbox WHERE event_type = 'order.placed' AND attempts > 1");
    assert!(
        retried.parse::<i64>().unwrap() > 0,
        "the outage made the relay retry"
    );
}

#[test]
fn two_relays_over_1000_events_handle_each_once() {
    let (_pg, _host, a) = start_own_app();
    let a = &a;
    // 500 checkouts: 500 `order.placed` and 500 `payment.succeeded` events.
    let orders = checkouts(a, 500, &["tok_visa"], |_| {});
    let pending = || {
        a.sql("SELECT count(*) FROM outbox WHERE handled_at IS NULL AND dead_at IS NULL AND event_type IN ('order.placed', 'payment.succeeded')")
    };
    relay_until(a, 2, Duration::from_secs(240), || {
        pending() == "0"
            && a.sql("SELECT count(*) FROM orders WHERE state = 'payment_pending'") == "0"
    });
    let events = a.sql("SELECT count(*), count(*) FILTER (WHERE attempts = 1) FROM outbox WHERE event_type IN ('order.placed', 'payment.succeeded')");
    assert_eq!(events, "1000|1000", "each of 1,000 events claimed once");
    assert_eq!(
        a.sql("SELECT count(*) FROM orders WHERE state = 'paid'"),
        "500"
    );
    assert_eq!(
        a.sql("SELECT count(*) FROM order_history WHERE to_state = 'paid'"),
        "500",
        "each order moved to paid once"
    );
    assert_eq!(
        a.sql("SELECT count(DISTINCT metadata ->> 'order_id'), count(*) FROM test_provider_intent"),
        "500|500",
        "one intent per order"
    );
    assert_eq!(orders.len(), 500);
}

#[test]
fn the_relay_answers_only_its_token_and_checks_its_batch() {
    let a = app();
    let post = |auth: Option<&str>, query: &str| {
        let headers: Vec<(&str, &str)> = auth.iter().map(|h| ("authorization", *h)).collect();
        a.request("POST", &format!("/internal/relay/{query}"), &headers, None)
    };
    post(None, "").assert_error(401);
    post(Some("Bearer not-the-token"), "").assert_error(401);
    let good = format!("Bearer {}", a.relay_token);
    for bad in ["?batch=0", "?batch=101", "?batch=x"] {
        post(Some(&good), bad).assert_error(400);
    }
    let pass = post(Some(&good), "?batch=5");
    assert_eq!(pass.status, 200, "{}", pass.text);
    assert!(pass.json["claimed"].as_u64().unwrap() <= 5, "{}", pass.text);
    assert_eq!(a.get("/internal/relay/", None).status, 405);
}
