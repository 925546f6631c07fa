//! The shop owner's controls, black-box: prices (new orders pay the new one,
//! placed orders keep theirs, the menu's ETag changes), sold-out pizzas,
//! branches that open and close, roles granted and revoked over HTTP, live
//! tokens cut off, an audit row and an event for every change, and who may
//! call each endpoint.

use pizza_e2e::{Resp, app};
use serde_json::{Value, json};

/// A member made admin with the admin tool (the only way to get the first
/// one), logged in again: (id, token).
fn admin() -> (String, String) {
    let (id, _, token) = app().member_with_role("owner", &pizza_db::MemberRole::Admin);
    (id, token)
}

fn send(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let body = body.map(Value::to_string);
    app().request(method, path, &headers, body.as_deref().map(str::as_bytes))
}

fn place(token: &str, branch: &str, name: &str, size: &str) -> Resp {
    let body = json!({"branchId": branch, "lines": [{"name": name, "size": size, "quantity": 1}]});
    app().post("/api/order/", &body, Some(token))
}

fn sql(query: &str) -> String {
    app().sql(query)
}

/// The audit rows of a subject, as `action|before|after`, oldest first.
fn audit(subject: &str) -> Vec<String> {
    sql(&format!(
        "SELECT string_agg(action || '|' || coalesce(before::text, '-') || '|' || after::text,
                           E'\\n' ORDER BY audit_id)
         FROM admin_audit WHERE subject = '{subject}'"
    ))
    .lines()
    .map(str::to_owned)
    .collect()
}

fn events(kind: &str, aggregate: &str) -> i64 {
    sql(&format!(
        "SELECT count(*) FROM outbox WHERE event_type = '{kind}' AND aggregate_id = '{aggregate}'"
    ))
    .parse()
    .unwrap()
}

fn menu_price(menu: &Value, pizza_id: &str) -> Option<f64> {
    menu.as_array()
        .unwrap()
        .iter()
        .find(|p| p["pizza_id"] == pizza_id)
        .map(|p| p["price"].as_f64().unwrap())
}

#[test]
fn a_new_price_is_paid_by_new_orders_only_and_changes_the_menus_etag() {
    let (owner, boss) = admin();
    let (_, _, member) = app().member("payer");
    let before = app().get("/api/menu/", None);
    let old_price = menu_price(&before.json, "hawaiian_m").unwrap();
    let first = place(&member, "1", "The Hawaiian Pizza", "M");
    assert_eq!(first.status, 201, "{}", first.text);

    let r = send(
        "PATCH",
        "/api/admin/menu/hawaiian_m/",
        Some(&boss),
        Some(&json!({"price": 21.5})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"pizza_id": "hawaiian_m", "price": 21.5, "sold_out": false})
    );

    let after = app().get("/api/menu/", None);
    assert_ne!(before.header("etag"), after.header("etag"));
    assert_eq!(menu_price(&after.json, "hawaiian_m"), Some(21.5));
    let second = place(&member, "1", "The Hawaiian Pizza", "M");
    assert_eq!(second.json["total"], 21.5, "{}", second.text);
    let history = app().get("/api/order/myorder/", Some(&member));
    let unit = |order: &Value| {
        history
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["order_id"] == *order)
            .unwrap()["unit_price"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(unit(&first.json["order_id"]), old_price);
    assert_eq!(unit(&second.json["order_id"]), 21.5);

    let rows = audit("pizza:hawaiian_m");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("pizza.update|"), "{rows:?}");
    assert!(
        rows[0].contains(&format!("\"price\": {old_price}")),
        "{rows:?}"
    );
    assert!(
        rows[0].ends_with("{\"price\": 21.5, \"sold_out\": false}"),
        "{rows:?}"
    );
    assert_eq!(
        sql("SELECT actor FROM admin_audit WHERE subject = 'pizza:hawaiian_m'"),
        owner
    );
    assert_eq!(events("catalog.updated", "hawaiian_m"), 1);
}

#[test]
fn a_sold_out_pizza_leaves_the_menu_and_is_refused_until_it_is_back() {
    let (_, boss) = admin();
    let (_, _, member) = app().member("hungry");
    let path = "/api/admin/menu/pepperoni_s/";
    let before = app().get("/api/menu/", None);
    let r = send("PATCH", path, Some(&boss), Some(&json!({"sold_out": true})));
    assert_eq!(r.status, 200, "{}", r.text);
    let menu = app().get("/api/menu/", None);
    assert_ne!(before.header("etag"), menu.header("etag"));
    assert_eq!(menu_price(&menu.json, "pepperoni_s"), None);
    let refused = place(&member, "2", "The Pepperoni Pizza", "S");
    let detail = refused.assert_error(400);
    assert!(detail.contains("sold out"), "{detail}");
    assert_eq!(place(&member, "2", "The Pepperoni Pizza", "M").status, 201);

    let r = send(
        "PATCH",
        path,
        Some(&boss),
        Some(&json!({"sold_out": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let back = app().get("/api/menu/", None);
    assert_eq!(
        menu_price(&back.json, "pepperoni_s"),
        menu_price(&before.json, "pepperoni_s")
    );
    assert_eq!(place(&member, "2", "The Pepperoni Pizza", "S").status, 201);
    assert_eq!(audit("pizza:pepperoni_s").len(), 2);
    assert_eq!(events("catalog.updated", "pepperoni_s"), 2);
}

#[test]
fn branches_are_created_renamed_closed_and_opened() {
    let (_, boss) = admin();
    let (_, _, member) = app().member("regular");
    let id = pizza_e2e::unique_id("b");
    let r = send(
        "POST",
        "/api/admin/branches/",
        Some(&boss),
        Some(&json!({"bran_id": id, "bran_nm": "부산점"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"bran_id": id, "bran_nm": "부산점", "is_open": true})
    );
    let again = send(
        "POST",
        "/api/admin/branches/",
        Some(&boss),
        Some(&json!({"bran_id": id, "bran_nm": "x"})),
    );
    again.assert_error(409);
    let listed = app().get("/api/order/branch/", None);
    assert!(
        listed
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["bran_id"] == id.as_str())
    );
    assert_eq!(place(&member, &id, "The Greek Pizza", "S").status, 201);

    let path = format!("/api/admin/branches/{id}/");
    let r = send(
        "PATCH",
        &path,
        Some(&boss),
        Some(&json!({"is_open": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["is_open"], false);
    let closed = place(&member, &id, "The Greek Pizza", "S");
    assert!(
        closed.assert_error(400).contains("closed"),
        "{}",
        closed.text
    );
    let r = send(
        "PATCH",
        &path,
        Some(&boss),
        Some(&json!({"is_open": true, "bran_nm": "부산 해운대점"})),
    );
    assert_eq!(
        r.json,
        json!({"bran_id": id, "bran_nm": "부산 해운대점", "is_open": true})
    );
    assert_eq!(place(&member, &id, "The Greek Pizza", "S").status, 201);

    let rows = audit(&format!("branch:{id}"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].starts_with("branch.create|-|"), "{rows:?}");
    assert!(rows[1].contains("\"is_open\": true") && rows[1].ends_with("\"is_open\": false}"));
    assert_eq!(events("branch.updated", &id), 3);
    send(
        "PATCH",
        "/api/admin/branches/nowhere/",
        Some(&boss),
        Some(&json!({"is_open": true})),
    )
    .assert_error(404);
}

#[test]
fn roles_are_granted_and_revoked_over_http_and_live_tokens_cut_off() {
    let (_, boss) = admin();
    let (cook, pw, _) = app().member("cook");
    let roles = format!("/api/admin/members/{cook}/roles/");
    let r = send("GET", &roles, Some(&boss), None);
    assert_eq!(
        r.json,
        json!({"member_id": cook, "admin": false, "staff": []})
    );
    let r = send(
        "PUT",
        &roles,
        Some(&boss),
        Some(&json!({"admin": false, "staff": ["3", "1"]})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"member_id": cook, "admin": false, "staff": ["1", "3"]})
    );
    let staff = app().login(&cook, &pw);
    assert_eq!(
        app().get("/api/order/queue/?branch=3", Some(&staff)).status,
        200
    );

    // Demoted: the role goes at once; the live token keeps it until cut off.
    let r = send(
        "PUT",
        &roles,
        Some(&boss),
        Some(&json!({"admin": false, "staff": []})),
    );
    assert_eq!(r.json["staff"], json!([]));
    assert_eq!(
        app().get("/api/order/queue/?branch=3", Some(&staff)).status,
        200
    );
    let cut = send(
        "POST",
        &format!("/api/admin/members/{cook}/revoke-tokens/"),
        Some(&boss),
        None,
    );
    assert_eq!(cut.status, 200, "{}", cut.text);
    app()
        .get("/api/order/queue/?branch=3", Some(&staff))
        .assert_error(401);
    app()
        .get("/api/order/myorder/", Some(&staff))
        .assert_error(401);
    // A token from a later login works, as a member only.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let member = app().login(&cook, &pw);
    assert_eq!(app().get("/api/order/myorder/", Some(&member)).status, 200);
    app()
        .get("/api/order/queue/?branch=3", Some(&member))
        .assert_error(403);

    let rows = audit(&format!("member:{cook}"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].ends_with("{\"admin\": false, \"staff\": [\"1\", \"3\"]}"),
        "{rows:?}"
    );
    assert!(rows[2].starts_with("member.revoke_tokens|"), "{rows:?}");
    assert_eq!(events("member.updated", &cook), 3);

    let bad = send(
        "PUT",
        &roles,
        Some(&boss),
        Some(&json!({"admin": false, "staff": ["nowhere"]})),
    );
    bad.assert_error(400);
    send(
        "GET",
        "/api/admin/members/nobody-at-all/roles/",
        Some(&boss),
        None,
    )
    .assert_error(404);
    send(
        "POST",
        "/api/admin/members/nobody-at-all/revoke-tokens/",
        Some(&boss),
        None,
    )
    .assert_error(404);
    // An admin made over HTTP is an admin at their next login.
    let (second, pw2, _) = app().member("partner");
    let path = format!("/api/admin/members/{second}/roles/");
    send(
        "PUT",
        &path,
        Some(&boss),
        Some(&json!({"admin": true, "staff": []})),
    );
    let partner = app().login(&second, &pw2);
    assert_eq!(send("GET", &roles, Some(&partner), None).status, 200);
}

#[test]
fn only_admins_reach_the_admin_endpoints() {
    let (_, boss) = admin();
    let (target, _, member) = app().member("plain");
    let role = pizza_db::MemberRole::Staff { branch: "1".into() };
    let (_, _, staff) = app().member_with_role("cookie", &role);
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            "/api/admin/menu/the_greek_s/".into(),
            Some(json!({"sold_out": false})),
        ),
        (
            "POST",
            "/api/admin/branches/".into(),
            Some(json!({"bran_id": "zz", "bran_nm": "z"})),
        ),
        (
            "PATCH",
            "/api/admin/branches/1/".into(),
            Some(json!({"is_open": true})),
        ),
        ("GET", format!("/api/admin/members/{target}/roles/"), None),
        (
            "PUT",
            format!("/api/admin/members/{target}/roles/"),
            Some(json!({"admin": false, "staff": []})),
        ),
        (
            "POST",
            format!("/api/admin/members/{target}/revoke-tokens/"),
            None,
        ),
    ];
    for (method, path, body) in &calls {
        for token in [None, Some("forged")] {
            send(method, path, token, body.as_ref()).assert_error(401);
        }
        for token in [&member, &staff] {
            let r = send(method, path, Some(token), body.as_ref());
            assert_eq!(r.assert_error(403), "admins only", "{method} {path}");
        }
    }
    // Bad bodies are 400 for an admin, and nothing is written.
    let touched = "SELECT count(*) FROM admin_audit
                   WHERE subject IN ('pizza:the_greek_s', 'pizza:no_such_pizza', 'branch:1', 'branch:')";
    let audits = sql(touched);
    for (method, path, body) in [
        (
            "PATCH",
            "/api/admin/menu/the_greek_s/",
            json!({"price": -3}),
        ),
        (
            "PATCH",
            "/api/admin/menu/the_greek_s/",
            json!({"price": 1.234}),
        ),
        ("PATCH", "/api/admin/menu/the_greek_s/", json!({})),
        (
            "POST",
            "/api/admin/branches/",
            json!({"bran_id": "", "bran_nm": "x"}),
        ),
        ("PATCH", "/api/admin/branches/1/", json!({"is_open": "no"})),
    ] {
        send(method, path, Some(&boss), Some(&body)).assert_error(400);
    }
    send(
        "PATCH",
        "/api/admin/menu/no_such_pizza/",
        Some(&boss),
        Some(&json!({"sold_out": true})),
    )
    .assert_error(404);
    assert_eq!(sql(touched), audits);
    // A logged-out admin's token is refused.
    let (_, gone) = admin();
    app().get("/api/login/logout/", Some(&gone));
    send(
        "GET",
        &format!("/api/admin/members/{target}/roles/"),
        Some(&gone),
        None,
    )
    .assert_error(401);
}
