//! The OpenAPI document (`GET /api/openapi.json`) against the app's real
//! answers: every answer of a walk through every operation has a documented
//! status, the documented content type, the documented required headers, and
//! a body that validates against the documented schema.

use pizza_e2e::{Resp, TestApp, app, unique_id};
use serde_json::{Value, json};

/// The document, as the app serves it.
fn document() -> Value {
    let r = app().get("/api/openapi.json", None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["openapi"], "3.1.0");
    r.json
}

/// `~` and `/` escaped for a JSON pointer segment.
fn segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Asserts that `r`, the answer to `method path`, is what the document says.
fn conforms(doc: &Value, method: &str, path: &str, r: &Resp) {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let pointer = format!("/paths/{}/{method}/responses/{}", segment(path), r.status);
    let response = doc.pointer(&pointer).unwrap_or_else(|| {
        panic!(
            "{method} {path}: status {} is not documented: {}",
            r.status, r.text
        )
    });
    let response = resolve(doc, response);
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        if resolve(doc, header)["required"] == true {
            assert!(
                r.header(&name.to_ascii_lowercase()).is_some(),
                "{method} {path} {}: no {name} header",
                r.status
            );
        }
    }
    let Some(content) = response["content"].as_object() else {
        assert!(
            r.text.is_empty(),
            "{method} {path} {}: undocumented body",
            r.status
        );
        return;
    };
    let media = r.header("content-type").unwrap_or_default();
    assert!(
        content.contains_key(media),
        "{method} {path} {}: content type {media:?}",
        r.status
    );
    let mut schema = doc.clone();
    // A URI fragment: the braces of `{id}` are percent-encoded.
    let fragment = format!("{pointer}/content/{}/schema", segment(media))
        .replace('{', "%7B")
        .replace('}', "%7D");
    schema["$ref"] = json!(format!("#{fragment}"));
    let validator = jsonschema::draft202012::new(&schema).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(&r.json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?} in {}",
        r.status,
        r.text
    );
}

/// A `$ref`'d object of the document, or the object itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .expect("a $ref into the document"),
        None => value,
    }
}

#[test]
fn every_answer_of_a_walk_through_the_api_is_documented() {
    let a = app();
    let doc = document();
    let check = |method: &str, path: &str, r: Resp| conforms(&doc, method, path, &r);
    let from = pizza_e2e::client_address();
    let id = unique_id("contract");
    let pw = "correct horse battery";
    let form = [("content-type", "application/x-www-form-urlencoded")];

    // login
    let register = |body: Value| a.post_from(&from, "/api/login/register/", &body);
    check(
        "post",
        "/api/login/register/",
        register(json!({"id": id, "pw": pw, "name": "C"})),
    );
    check(
        "post",
        "/api/login/register/",
        register(json!({"id": id, "pw": pw, "name": "C"})),
    );
    check(
        "post",
        "/api/login/register/",
        register(json!({"id": "", "pw": pw, "name": "C"})),
    );
    check(
        "post",
        "/api/login/register/",
        a.request(
            "POST",
            "/api/login/register/",
            &[("content-type", "text/plain")],
            Some(b"x"),
        ),
    );
    check(
        "post",
        "/api/login/register/",
        a.request(
            "POST",
            "/api/login/register/",
            &form,
            Some(&vec![b'a'; 70_000]),
        ),
    );
    let login = a.post_from(&from, "/api/login/", &json!({"id": id, "pw": pw}));
    let token = login.json["token"].as_str().unwrap().to_owned();
    check("post", "/api/login/", login);
    check(
        "post",
        "/api/login/",
        a.post("/api/login/", &json!({"id": id}), None),
    );
    let ghost = unique_id("ghost");
    for _ in 0..6 {
        let r = a.post(
            "/api/login/",
            &json!({"id": ghost, "pw": "wrong password"}),
            None,
        );
        check("post", "/api/login/", r);
    }

    // menu
    for path in ["/api/menu/", "/api/menu/types/"] {
        let listing = a.get(path, None);
        let tag = listing.header("etag").unwrap().to_owned();
        check("get", path, listing);
        let revalidated = a.request("GET", path, &[("if-none-match", &tag)], None);
        check("get", path, revalidated);
    }
    let pizza_id = |body: Value| a.post("/api/menu/get_pizza_id/", &body, None);
    check(
        "post",
        "/api/menu/get_pizza_id/",
        pizza_id(json!({"pizza_nm": "The Greek Pizza", "size": "XXL"})),
    );
    check(
        "post",
        "/api/menu/get_pizza_id/",
        pizza_id(json!({"pizza_nm": "No Such Pizza", "size": "M"})),
    );
    check(
        "post",
        "/api/menu/get_pizza_id/",
        pizza_id(json!({"size": "M"})),
    );

    // order
    let branches = a.get("/api/order/branch/", None);
    let branch = branches.json[0]["bran_id"].as_str().unwrap().to_owned();
    check("get", "/api/order/branch/", branches);
    let order = json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 2}]});
    let place = |body: &Value, key: &str| {
        let auth = format!("Bearer {token}");
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
            ("idempotency-key", key),
        ];
        a.request(
            "POST",
            "/api/order/",
            &headers,
            Some(body.to_string().as_bytes()),
        )
    };
    check("post", "/api/order/", place(&order, "k-1"));
    check("post", "/api/order/", place(&order, "k-1"));
    check(
        "post",
        "/api/order/",
        place(&json!({"branchId": branch, "lines": []}), "k-2"),
    );
    check(
        "post",
        "/api/order/",
        place(
            &json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "S", "quantity": 1}]}),
            "k-1",
        ),
    );
    check("post", "/api/order/", a.post("/api/order/", &order, None));
    check(
        "get",
        "/api/order/myorder/",
        a.get("/api/order/myorder/", Some(&token)),
    );
    check(
        "get",
        "/api/order/myorder/",
        a.get("/api/order/myorder/", Some("not-a-token")),
    );
    check(
        "get",
        "/api/login/logout/",
        a.get("/api/login/logout/", Some(&token)),
    );

    // operations
    let tag = a
        .get("/api/openapi.json", None)
        .header("etag")
        .unwrap()
        .to_owned();
    check(
        "get",
        "/api/openapi.json",
        a.request("GET", "/api/openapi.json", &[("if-none-match", &tag)], None),
    );
    for probe in [
        "/healthz",
        "/api/login/healthz",
        "/api/menu/healthz",
        "/api/order/healthz",
        "/livez",
    ] {
        // The app-wide probes serve `spin up` and make up; no SpinApp deploys them.
        if pizza_e2e::through_spinkube() && matches!(probe, "/healthz" | "/livez") {
            continue;
        }
        check("get", probe, a.get(probe, None));
    }
}

#[test]
fn the_answers_of_an_orders_life_are_documented() {
    let a = app();
    let doc = document();
    let check = |method: &str, path: &str, r: Resp| conforms(&doc, method, path, &r);
    let (_, _, member) = a.member("contractm");
    let staff_of_1 = pizza_db::MemberRole::Staff { branch: "1".into() };
    let (_, _, staff) = a.member_with_role("contracts", &staff_of_1);
    let order = json!({"branchId": "1", "lines": [
        {"name": "The Greek Pizza", "size": "S", "quantity": 1}]});
    let placed = |token: &str| {
        let r = a.post("/api/order/", &order, Some(token));
        r.json["order_id"].as_i64().unwrap()
    };
    let id = placed(&member);
    let with = |token: &str, tag: Option<&str>| {
        let mut h = vec![("content-type", "application/json".to_owned())];
        h.push(("authorization", format!("Bearer {token}")));
        if let Some(t) = tag {
            h.push(("if-match", t.to_owned()));
        }
        h
    };
    let post = |path: &str, token: &str, tag: Option<&str>, body: Value| {
        let h = with(token, tag);
        let h: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
        a.request("POST", path, &h, Some(body.to_string().as_bytes()))
    };
    let detail = "/api/order/{id}/";
    let queue = "/api/order/queue/";
    let transition = "/api/order/{id}/transition/";
    let cancel = "/api/order/{id}/cancel/";
    let order_path = format!("/api/order/{id}/");
    let move_path = format!("/api/order/{id}/transition/");

    check("get", detail, a.get(&order_path, Some(&member)));
    check("get", detail, a.get(&order_path, None));
    check("get", detail, a.get("/api/order/0/", Some(&member)));
    check(
        "get",
        detail,
        a.get(&format!("{order_path}?after=x"), Some(&member)),
    );
    check(
        "get",
        queue,
        a.get("/api/order/queue/?branch=1", Some(&staff)),
    );
    check(
        "get",
        queue,
        a.get("/api/order/queue/?branch=1", Some(&member)),
    );
    check(
        "get",
        queue,
        a.get("/api/order/queue/?branch=2", Some(&staff)),
    );
    check("get", queue, a.get("/api/order/queue/", Some(&staff)));
    check("get", queue, a.get("/api/order/queue/", None));
    let accept = || json!({"to": "accepted"});
    check("post", transition, post(&move_path, &staff, None, accept()));
    check(
        "post",
        transition,
        post(&move_path, &member, Some("\"1\""), accept()),
    );
    check(
        "post",
        transition,
        post(&move_path, &staff, Some("\"1\""), json!({"to": 1})),
    );
    check(
        "post",
        transition,
        post(&move_path, &staff, Some("\"1\""), accept()),
    );
    check(
        "post",
        transition,
        post(&move_path, &staff, Some("\"1\""), accept()),
    );
    check(
        "post",
        transition,
        post(&move_path, &staff, Some("\"2\""), accept()),
    );
    check(
        "post",
        transition,
        post("/api/order/0/transition/", &staff, Some("\"1\""), accept()),
    );
    check(
        "get",
        detail,
        a.get(&format!("{order_path}?after=1"), Some(&staff)),
    );
    let cancel_path = format!("/api/order/{id}/cancel/");
    check(
        "post",
        cancel,
        post(&cancel_path, &member, Some("\"2\""), json!({})),
    );
    check(
        "post",
        cancel,
        post(&cancel_path, &staff, Some("\"2\""), json!({})),
    );
    let fresh = placed(&member);
    let fresh_cancel = format!("/api/order/{fresh}/cancel/");
    check(
        "post",
        cancel,
        post(&fresh_cancel, &member, Some("\"1\""), json!({"reason": 3})),
    );
    check(
        "post",
        cancel,
        post(&fresh_cancel, &member, Some("\"1\""), json!({})),
    );
}

#[test]
fn the_answers_of_the_admin_endpoints_are_documented() {
    let a = app();
    let doc = document();
    let check = |method: &str, path: &str, r: Resp| conforms(&doc, method, path, &r);
    let (boss, _, token) = a.member_with_role("contracta", &pizza_db::MemberRole::Admin);
    let (_, _, member) = a.member("contractb");
    let send = |method: &str, path: &str, token: &str, body: Option<Value>| {
        let auth = format!("Bearer {token}");
        let h = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        let body = body.map(|b| b.to_string());
        a.request(method, path, &h, body.as_deref().map(str::as_bytes))
    };
    let menu = "/api/admin/menu/{pizza_id}/";
    let branches = "/api/admin/branches/";
    let branch = "/api/admin/branches/{bran_id}/";
    let roles = "/api/admin/members/{member_id}/roles/";
    let revoke = "/api/admin/members/{member_id}/revoke-tokens/";
    let greek = "/api/admin/menu/the_greek_s/";
    check(
        "patch",
        menu,
        send("PATCH", greek, &token, Some(json!({"sold_out": false}))),
    );
    check("patch", menu, send("PATCH", greek, &token, Some(json!({}))));
    check(
        "patch",
        menu,
        send("PATCH", greek, &member, Some(json!({"sold_out": true}))),
    );
    check(
        "patch",
        menu,
        send(
            "PATCH",
            "/api/admin/menu/nope/",
            &token,
            Some(json!({"sold_out": true})),
        ),
    );
    let id = unique_id("cb");
    let new_branch = json!({"bran_id": id, "bran_nm": "n"});
    check(
        "post",
        branches,
        send("POST", branches, &token, Some(new_branch.clone())),
    );
    check(
        "post",
        branches,
        send("POST", branches, &token, Some(new_branch)),
    );
    check(
        "post",
        branches,
        send("POST", branches, &token, Some(json!({}))),
    );
    let path = format!("/api/admin/branches/{id}/");
    check(
        "patch",
        branch,
        send("PATCH", &path, &token, Some(json!({"is_open": true}))),
    );
    check(
        "patch",
        branch,
        send(
            "PATCH",
            "/api/admin/branches/nope/",
            &token,
            Some(json!({"is_open": true})),
        ),
    );
    let mine = format!("/api/admin/members/{boss}/roles/");
    check("get", roles, send("GET", &mine, &token, None));
    check(
        "put",
        roles,
        send(
            "PUT",
            &mine,
            &token,
            Some(json!({"admin": true, "staff": ["1"]})),
        ),
    );
    check(
        "put",
        roles,
        send(
            "PUT",
            &mine,
            &token,
            Some(json!({"admin": true, "staff": ["nope"]})),
        ),
    );
    check(
        "get",
        roles,
        send("GET", "/api/admin/members/nobody-here/roles/", &token, None),
    );
    check("get", roles, a.get(&mine, None));
    check(
        "post",
        revoke,
        send(
            "POST",
            "/api/admin/members/nobody-here/revoke-tokens/",
            &token,
            None,
        ),
    );
    check(
        "post",
        revoke,
        send(
            "POST",
            &format!("/api/admin/members/{boss}/revoke-tokens/"),
            &token,
            None,
        ),
    );
    check(
        "get",
        "/api/admin/healthz",
        a.get("/api/admin/healthz", None),
    );
}

/// A request of a walk: method, the document's path, the path asked, token
/// (or none), extra headers and body.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    Option<&'a str>,
    &'a [(&'a str, &'a str)],
    Option<&'a Value>,
);

/// Sends each case in order and checks its answer against the document; the
/// order id a checkout created, if one did.
fn ask(a: &TestApp, doc: &Value, cases: &[Case]) -> Option<i64> {
    let mut created = None;
    for (method, documented, path, token, extra, body) in cases {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h = vec![("content-type", "application/json")];
        h.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        h.extend_from_slice(extra);
        let body = body.map(Value::to_string);
        let r = a.request(method, path, &h, body.as_deref().map(str::as_bytes));
        if r.status == 201 {
            created = r.json["order_id"].as_i64();
        }
        conforms(doc, &method.to_lowercase(), documented, &r);
    }
    created
}

#[test]
fn the_answers_of_carts_checkout_and_payments_are_documented() {
    let a = app();
    let doc = document();
    let (_, _, member) = a.member("contractc");
    let (_, _, boss) = a.member_with_role("contractd", &pizza_db::MemberRole::Admin);
    // In order, as one member's session.
    let lines = json!({"branchId": "1", "lines": [
        {"name": "The Greek Pizza", "size": "S", "quantity": 1}]});
    let visa = json!({"payment_method": "tok_visa"});
    let declined = json!({"payment_method": "tok_chargeDeclined"});
    let key = unique_id("contract-checkout");
    let (cart, checkout) = ("/api/order/cart/", "/api/order/cart/checkout/");
    let m = Some(member.as_str());
    let no_key: &[(&str, &str)] = &[];
    let keyed: &[(&str, &str)] = &[("idempotency-key", &key)];
    let cases: Vec<Case> = vec![
        ("GET", cart, cart.into(), m, no_key, None),
        ("GET", cart, cart.into(), None, no_key, None),
        ("PUT", cart, cart.into(), m, no_key, Some(&lines)),
        (
            "PUT",
            cart,
            cart.into(),
            m,
            &[("if-match", "\"5\"")],
            Some(&lines),
        ),
        (
            "PUT",
            cart,
            cart.into(),
            m,
            &[("if-match", "*")],
            Some(&lines),
        ),
        (
            "PUT",
            cart,
            cart.into(),
            m,
            &[("if-match", "\"0\"")],
            Some(&visa),
        ),
        (
            "PUT",
            cart,
            cart.into(),
            m,
            &[("if-match", "\"0\"")],
            Some(&lines),
        ),
        ("POST", checkout, checkout.into(), m, no_key, Some(&visa)),
        ("POST", checkout, checkout.into(), None, keyed, Some(&visa)),
        ("POST", checkout, checkout.into(), m, keyed, Some(&visa)),
        ("POST", checkout, checkout.into(), m, keyed, Some(&visa)),
        ("POST", checkout, checkout.into(), m, keyed, Some(&declined)),
        (
            "POST",
            checkout,
            checkout.into(),
            m,
            &[("idempotency-key", "other")],
            Some(&visa),
        ),
    ];
    let id = ask(a, &doc, &cases).expect("checked out");
    let (pay, pay_path) = ("/api/order/{id}/pay/", format!("/api/order/{id}/pay/"));
    let (dead, replay) = (
        "/api/admin/outbox/dead/",
        "/api/admin/outbox/{event_id}/replay/",
    );
    let b = Some(boss.as_str());
    let p1: &[(&str, &str)] = &[("idempotency-key", "p1")];
    let cases: Vec<Case> = vec![
        ("POST", pay, pay_path.clone(), m, p1, Some(&visa)),
        ("POST", pay, pay_path.clone(), m, no_key, Some(&visa)),
        ("POST", pay, "/api/order/0/pay/".into(), m, p1, Some(&visa)),
        ("POST", pay, pay_path, b, p1, Some(&visa)),
        ("GET", dead, dead.into(), b, no_key, None),
        ("GET", dead, format!("{dead}?limit=500"), b, no_key, None),
        ("GET", dead, dead.into(), m, no_key, None),
        ("GET", dead, dead.into(), None, no_key, None),
        (
            "POST",
            replay,
            "/api/admin/outbox/1/replay/".into(),
            b,
            no_key,
            None,
        ),
        (
            "POST",
            replay,
            "/api/admin/outbox/1/replay/".into(),
            m,
            no_key,
            None,
        ),
    ];
    ask(a, &doc, &cases);

    let webhook = "/api/order/payments/webhook/";
    let event = json!({"id": "evt_c", "type": "customer.created", "data": {"object": {}}});
    let event = event.to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signature = pizza::payments::signature::sign(b"whsec_test_pizza", now, event.as_bytes());
    let deliver = |signature: &str| {
        let h = [
            ("content-type", "application/json"),
            ("webhook-signature", signature),
        ];
        let r = a.request("POST", webhook, &h, Some(event.as_bytes()));
        conforms(&doc, "post", webhook, &r);
    };
    if !pizza_e2e::through_spinkube() {
        // The dev overlay's webhook secret is generated, not the default.
        deliver(&signature);
    }
    deliver(&signature);
    deliver("t=1,v1=00");
}
