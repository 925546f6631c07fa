//! Running next to the Django services, and rolling back to them.
//!
//! A database built the way the Django services left it is migrated and served.
//! With `django_coexistence` on, every password our login writes still checks
//! with Django's algorithm for its stored format, however often and in
//! whichever order a member logs in on either side, and the Django login's
//! tokens work here (and can be revoked). With it off, the first login
//! upgrades the hash to argon2id, which Django cannot read: the difference the
//! runbook's "switch it off only after cutover" is about.

use pizza_e2e::django::{self, SCHEMA};
use pizza_e2e::tokens::now;
use pizza_e2e::{JWT_SECRET, TestApp, prepare_database, psql, serve};
use serde_json::json;
use testkit::{Host, Postgres};

/// The Django-era members of [`SCHEMA`] and their passwords.
const LEGACY_MEMBERS: [(&str, &str); 2] = [
    ("legacy_pbkdf2", "legacy pass 1"),
    ("legacy_plain", "test_password123"),
];

/// A Django-era database, migrated, served with `django_coexistence` set to `mode`.
fn django_database(pg: &Postgres, db: &str, mode: &str) -> (Host, TestApp) {
    pg.create_database(db);
    let admin = pg.superuser_url(db);
    psql(&admin, SCHEMA);
    prepare_database(&admin, false);
    serve(pg, db, &[("django_coexistence", mode)])
}

fn stored_hash(app: &TestApp, id: &str) -> String {
    psql(
        &app.admin_url,
        &format!("SELECT member_pwd FROM member WHERE member_id = '{id}'"),
    )
}

fn login(app: &TestApp, id: &str, pw: &str) -> String {
    let r = app.post("/api/login/", &json!({"id": id, "pw": pw}), None);
    assert_eq!(r.status, 200, "{id}: {}", r.text);
    r.json["token"].as_str().unwrap().to_owned()
}

#[test]
fn with_coexistence_on_members_log_in_on_either_side_in_any_order() {
    let pg = Postgres::start();
    let (_host, app) = django_database(&pg, "coexist", "true");
    let registered = ("spin_member", "registered on spin");
    let r = app.post(
        "/api/login/register/",
        &json!({"id": registered.0, "pw": registered.1, "name": "New"}),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.text);

    for (id, pw) in LEGACY_MEMBERS.into_iter().chain([registered]) {
        // Django, Spin, Django, Spin, Spin, Django: every time, both sides accept.
        for round in 0..3 {
            let before = stored_hash(&app, id);
            if round > 0 || id == registered.0 {
                assert!(
                    django::check_password(pw, &before),
                    "{id}: Django refuses {before}"
                );
            }
            let token = login(&app, id, pw);
            let after = stored_hash(&app, id);
            assert!(
                after.starts_with("scrypt$16384$") && after.len() == 128,
                "{id}: {after}"
            );
            assert!(
                django::check_password(pw, &after),
                "{id}: Django refuses {after}"
            );
            assert!(!django::check_password("wrong password", &after));
            if round > 0 {
                assert_eq!(before, after, "{id}: a current hash is not rewritten");
            }
            // Our tokens work at the Django order service.
            assert_eq!(
                django::order_service_member(&token, JWT_SECRET).as_deref(),
                Some(id)
            );
        }
    }
}

#[test]
fn with_coexistence_on_django_tokens_work_and_can_be_revoked() {
    let pg = Postgres::start();
    let (_host, app) = django_database(&pg, "tokens", "true");
    let token = django::issue_token("legacy_pbkdf2", JWT_SECRET, now() - 5);
    let r = app.get("/api/order/myorder/", Some(&token));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json[0]["order_id"], 17, "{}", r.text);

    // Logout revokes exactly that token: same member, same issue time.
    let other = django::issue_token("legacy_pbkdf2", JWT_SECRET, now() - 6);
    assert_eq!(app.get("/api/login/logout/", Some(&token)).status, 200);
    app.get("/api/order/myorder/", Some(&token))
        .assert_error(401);
    assert_eq!(app.get("/api/order/myorder/", Some(&other)).status, 200);

    // A Django token must still be a Django token: no iat, or a lifetime of
    // years, is refused.
    let forever = pizza_e2e::tokens::hs256(
        &json!({"member_id": "legacy_pbkdf2", "iat": now(), "exp": now() + 400 * 86400})
            .to_string(),
        JWT_SECRET,
    );
    app.get("/api/order/myorder/", Some(&forever))
        .assert_error(401);
}

#[test]
fn with_coexistence_off_the_first_login_locks_django_out() {
    let pg = Postgres::start();
    let (_host, app) = django_database(&pg, "cutover", "false");
    for (id, pw) in LEGACY_MEMBERS {
        let before = stored_hash(&app, id);
        login(&app, id, pw);
        let after = stored_hash(&app, id);
        assert!(after.starts_with("$argon2id$"), "{id}: {after}");
        assert!(
            !django::check_password(pw, &after),
            "Django cannot read argon2id without argon2-cffi"
        );
        if id == "legacy_pbkdf2" {
            assert!(django::check_password(pw, &before));
        }
    }
    // And the Django login's tokens are refused.
    let token = django::issue_token("legacy_pbkdf2", JWT_SECRET, now() - 5);
    app.get("/api/order/myorder/", Some(&token))
        .assert_error(401);
}

#[test]
fn the_django_check_used_here_agrees_with_django() {
    // Written by Django 5.2.5's make_password("correct horse", salt, hasher).
    assert!(django::check_password(
        "correct horse",
        "pbkdf2_sha256$1000$saltsaltsalt$F7o7+5VTVzFAO998X6s3AHrDsJVdMiIlgndIMe19NvY="
    ));
    assert!(django::check_password(
        "correct horse",
        "pbkdf2_sha1$1000$saltsaltsalt$JfNU29qvQkW1UgahO6OQ0oP6O0I="
    ));
    let scrypt = "scrypt$16384$abcdefghijklmnopqrstuv$8$5$2CyFzwiSp10903TARkWJsyfC9Q3aeX0RvkHqKxHNeBplPnTz1lYfWZu5pEy7/A6r1KH53voY5f8NgFIZC1gWWA==";
    assert!(django::check_password("correct horse", scrypt));
    assert!(!django::check_password("correct horsE", scrypt));
    assert!(!django::check_password(
        "correct horse",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$x"
    ));
}
