//! Adopting the database the Django services built and filled: the migrations
//! keep every row and every column type but one (member_pwd, widened for
//! Django's scrypt format), hash leftover plaintext passwords, and members of
//! both eras can log in (their hashes upgraded to argon2id, coexistence off).

use pizza_e2e::django::SCHEMA as DJANGO_SCHEMA;
use pizza_e2e::{prepare_database, psql, serve};
use serde_json::json;
use testkit::Postgres;

#[test]
fn a_django_database_is_adopted_without_losing_anything() {
    let pg = Postgres::start();
    pg.create_database("legacy");
    let admin = pg.superuser_url("legacy");
    psql(&admin, DJANGO_SCHEMA);
    let types_before = psql(
        &admin,
        "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, ''), ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('member','pizza','pizza_types','branch','orders','order_detail')",
    );

    prepare_database(&admin, false);
    prepare_database(&admin, false); // a second run is a no-op

    // Nothing lost, nothing retyped, Django's tables untouched.
    assert_eq!(psql(&admin, "SELECT count(*) FROM member"), "3");
    assert_eq!(psql(&admin, "SELECT count(*) FROM django_migrations"), "3");
    assert_eq!(psql(&admin, "SELECT username FROM auth_user"), "admin");
    assert_eq!(psql(&admin, "SELECT price FROM pizza"), "25000");
    assert_eq!(
        psql(
            &admin,
            "SELECT order_id || ',' || quantity FROM order_detail"
        ),
        "17,2"
    );
    let types_after = psql(
        &admin,
        "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, ''), ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('member','pizza','pizza_types','branch','orders','order_detail') AND column_name NOT IN ('unit_price','created_at','ingredients')",
    )
    .replace("member.member_pwd:character varying128", "member.member_pwd:character varying100");
    // The one retyped column: widened (never narrowed) for Django's scrypt format.
    assert_eq!(
        psql(
            &admin,
            "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'member' AND column_name = 'member_pwd'"
        ),
        "128"
    );
    assert_eq!(types_before, types_after);

    // No plaintext survives; unusable passwords stay unusable.
    let plain = psql(
        &admin,
        "SELECT member_pwd FROM member WHERE member_id = 'legacy_plain'",
    );
    assert!(
        plain.starts_with("$2a$") || plain.starts_with("$2b$"),
        "{plain}"
    );
    assert_eq!(
        psql(
            &admin,
            "SELECT member_pwd FROM member WHERE member_id = 'legacy_unusable'"
        ),
        "!x"
    );

    // Both eras log in, and their hashes are upgraded to argon2id.
    let (_host, app) = serve(&pg, "legacy", &[]);
    for (id, pw) in [
        ("legacy_pbkdf2", "legacy pass 1"),
        ("legacy_plain", "test_password123"),
    ] {
        let r = app.post("/api/login/", &json!({"id": id, "pw": pw}), None);
        assert_eq!(r.status, 200, "{id}: {}", r.text);
        let stored = psql(
            &admin,
            &format!("SELECT member_pwd FROM member WHERE member_id = '{id}'"),
        );
        assert!(
            stored.starts_with("$argon2id$"),
            "{id} not upgraded: {stored}"
        );
        let r = app.post("/api/login/", &json!({"id": id, "pw": pw}), None);
        assert_eq!(r.status, 200, "{id} after upgrade: {}", r.text);
    }
    let r = app.post(
        "/api/login/",
        &json!({"id": "legacy_unusable", "pw": "!x"}),
        None,
    );
    assert_eq!(r.status, 401);

    // New ids continue after the legacy ones.
    assert_eq!(
        psql(
            &admin,
            "SELECT pg_get_serial_sequence('orders', 'order_id') IS NOT NULL"
        ),
        "t"
    );
    assert_eq!(
        psql(
            &admin,
            "SELECT nextval(pg_get_serial_sequence('orders', 'order_id'))"
        ),
        "18"
    );
}
