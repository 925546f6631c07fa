//! What a hostile client sends that PostgreSQL cannot store: every such field
//! is a clear 400 that names it, never a 500.

use pizza_e2e::tokens::{hs256, now};
use pizza_e2e::{app, unique_id};
use serde_json::json;

/// Asserts a 400 whose detail names `field`.
fn assert_names(r: &pizza_e2e::Resp, field: &str) {
    let detail = r.assert_error(400);
    assert!(detail.contains(field), "{field} not named in {detail:?}");
}

#[test]
fn nul_in_any_json_field_is_a_400_naming_it() {
    let (_, _, token) = app().member("nul");
    let cases = [
        (
            "/api/login/",
            json!({"id": "a\u{0}b", "pw": "password1"}),
            "id",
        ),
        (
            "/api/login/",
            json!({"id": "alice", "pw": "pass\u{0}word"}),
            "pw",
        ),
        (
            "/api/login/register/",
            json!({"id": unique_id("n"), "pw": "password1", "name": "N\u{0}"}),
            "name",
        ),
        (
            "/api/menu/get_pizza_id/",
            json!({"pizza_nm": "The Greek Pizza\u{0}", "size": "M"}),
            "pizza_nm",
        ),
        (
            "/api/order/",
            json!({"branchId": "B\u{0}", "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 1}]}),
            "branchId",
        ),
        (
            "/api/order/",
            json!({"branchId": "1", "lines": [{"name": "The Greek\u{0} Pizza", "size": "M", "quantity": 1}]}),
            "lines[0].name",
        ),
    ];
    for (path, body, field) in cases {
        let r = app().post(path, &body, Some(&token));
        assert_names(&r, field);
    }
}

#[test]
fn nul_in_a_form_field_is_a_400_naming_it() {
    let r = app().request(
        "POST",
        "/api/login/",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"id=a%00b&pw=password1"),
    );
    assert_names(&r, "id");
}

#[test]
fn unpaired_surrogates_are_refused_by_the_json_reader() {
    // JSON may spell a lone surrogate, which no UTF-8 text column can hold.
    let r = app().request(
        "POST",
        "/api/login/",
        &[("content-type", "application/json")],
        Some(br#"{"id": "a\ud800b", "pw": "password1"}"#),
    );
    r.assert_error(400);
}

/// A token signed with the app's key, with the given claims.
fn signed(member: &str, iat: Option<u64>, exp: u64) -> String {
    let mut claims = json!({"member_id": member, "exp": exp, "jti": unique_id("jti")});
    if let Some(iat) = iat {
        claims["iat"] = json!(iat);
    }
    hs256(&claims.to_string(), &app().jwt_secret)
}

#[test]
fn a_token_revoked_in_its_leeway_minute_stays_revoked() {
    let (id, _, other) = app().member("leeway");
    // Expired 30 s ago: still inside the one-minute clock-skew leeway.
    let token = signed(&id, Some(now() - 3570), now() - 30);
    assert_eq!(app().get("/api/order/myorder/", Some(&token)).status, 200);
    assert_eq!(app().get("/api/login/logout/", Some(&token)).status, 200);
    app()
        .get("/api/order/myorder/", Some(&token))
        .assert_error(401);
    // Somebody else's logout purges expired revocations; ours must survive it.
    assert_eq!(app().get("/api/login/logout/", Some(&other)).status, 200);
    app()
        .get("/api/order/myorder/", Some(&token))
        .assert_error(401);
}

#[test]
fn tokens_need_iat_and_a_lifetime_of_at_most_an_hour() {
    let (id, _, _) = app().member("lifetime");
    let no_iat = signed(&id, None, now() + 600);
    app()
        .get("/api/order/myorder/", Some(&no_iat))
        .assert_error(401);
    let a_year = signed(&id, Some(now()), now() + 365 * 86400);
    app()
        .get("/api/order/myorder/", Some(&a_year))
        .assert_error(401);
    let an_hour = signed(&id, Some(now()), now() + 3600);
    assert_eq!(app().get("/api/order/myorder/", Some(&an_hour)).status, 200);
}

#[test]
fn parallel_guesses_for_one_id_get_five_password_checks_at_most() {
    let (id, _, _) = app().member("parallel");
    let from = pizza_e2e::client_address();
    let answers: Vec<u16> = std::thread::scope(|s| {
        let guesses: Vec<_> = (0..40)
            .map(|i| {
                let (id, from) = (&id, &from);
                s.spawn(move || {
                    let body = json!({"id": id, "pw": format!("wrong guess {i}")});
                    app().post_from(from, "/api/login/", &body).status
                })
            })
            .collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    let checked = answers.iter().filter(|&&s| s == 401).count();
    let refused = answers.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 40, "{answers:?}");
    assert!(checked <= 5, "{checked} password checks: {answers:?}");
}

#[test]
fn strangers_cannot_lock_a_member_out() {
    let (id, pw, _) = app().member("victim");
    for stranger in 0..25 {
        let from = pizza_e2e::client_address();
        let r = app().post_from(
            &from,
            "/api/login/",
            &json!({"id": id, "pw": format!("guess {stranger}")}),
        );
        assert!(matches!(r.status, 401 | 429), "{}", r.text);
    }
    // The member's own correct password still works, from their own address.
    let r = app().post_from(
        &pizza_e2e::client_address(),
        "/api/login/",
        &json!({"id": id, "pw": pw}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn one_address_spraying_many_ids_is_throttled() {
    let from = pizza_e2e::client_address();
    let statuses: Vec<u16> = (0..60)
        .map(|i| {
            let body = json!({"id": unique_id(&format!("spray{i}")), "pw": "password1"});
            app().post_from(&from, "/api/login/", &body).status
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let r = app().post_from(
        &from,
        "/api/login/",
        &json!({"id": "anyone", "pw": "password1"}),
    );
    assert!(r.header("retry-after").is_some(), "{r:?}");
}

#[test]
fn registrations_are_limited_per_address() {
    let from = pizza_e2e::client_address();
    let statuses: Vec<u16> = (0..25)
        .map(|i| {
            let body = json!({"id": unique_id(&format!("reg{i}")), "pw": "password1", "name": "R"});
            app().post_from(&from, "/api/login/register/", &body).status
        })
        .collect();
    assert_eq!(&statuses[..20], &[201; 20], "{statuses:?}");
    assert_eq!(statuses[24], 429, "{statuses:?}");
}

#[test]
fn a_member_may_place_twenty_orders_in_ten_minutes() {
    let (_, _, token) = app().member("orders");
    let branch = app().get("/api/order/branch/", None).json[0]["bran_id"].clone();
    let order = json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 1}]});
    for n in 1..=20 {
        let r = app().post("/api/order/", &order, Some(&token));
        assert_eq!(r.status, 201, "order {n}: {}", r.text);
    }
    let r = app().post("/api/order/", &order, Some(&token));
    r.assert_error(429);
    let retry = r.retry_after_secs();
    assert!((1..=600).contains(&retry), "{retry}");
}
