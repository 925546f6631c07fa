//! Adopting the database the Django services built and filled: the migrations
//! keep every row and every column type but one (member_pwd, widened for
//! Django's scrypt format), hash leftover plaintext passwords, and members of
//! both eras can log in (their hashes upgraded to argon2id, coexistence off).

use pizza_e2e::django::SCHEMA as DJANGO_SCHEMA;
use pizza_e2e::{prepare_database, psql, serve};
use serde_json::json;
use testkit::Postgres;

/// Django's unusable password of `legacy_unusable` in the fixture.
const UNUSABLE: &str = "!u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd";

#[test]
fn a_django_database_is_adopted_without_losing_anything() {
    let pg = Postgres::start();
    pg.create_database("legacy");
    let admin = pg.superuser_url("legacy");
    psql(&admin, DJANGO_SCHEMA);
    // Monolith-era plaintext that happens to begin with "!", and a Django format
    // that needs a package the shop's Django lacks (written by Django 5.2.5 itself,
    // for "correct horse").
    psql(
        &admin,
        "INSERT INTO member VALUES
           ('legacy_bang', '!bang-plaintext', 'bang'),
           ('django_bcrypt_sha256', 'bcrypt_sha256$$2b$12$ziYTf7wZwuC8oD9TRMuTDuYLP7BruaN2VxQOv.5B8x1UbblhYeA3S', 'b2')",
    );
    let types_before = psql(
        &admin,
        "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, ''), ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('member','pizza','pizza_types','branch','orders','order_detail')",
    );

    prepare_database(&admin, false);
    prepare_database(&admin, false); // a second run is a no-op

    // Nothing lost, nothing retyped, Django's tables untouched.
    assert_eq!(psql(&admin, "SELECT count(*) FROM member"), "5");
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
        "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, ''), ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('member','pizza','pizza_types','branch','orders','order_detail') AND column_name NOT IN ('unit_price','created_at','ingredients','state','version','sold_out','is_open')",
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
    let bang = psql(
        &admin,
        "SELECT member_pwd FROM member WHERE member_id = 'legacy_bang'",
    );
    assert!(bang.starts_with("$2a$"), "plaintext survived: {bang}");
    assert_eq!(
        psql(
            &admin,
            "SELECT member_pwd FROM member WHERE member_id = 'legacy_unusable'"
        ),
        UNUSABLE
    );

    // Django's argon2 format (105 characters) fits only the widened column: as a
    // Django with argon2-cffi would write it during coexistence.
    psql(
        &admin,
        "INSERT INTO member VALUES ('django_argon2', 'argon2$argon2id$v=19$m=1024,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$ogPFaq73C3RJT9VKwSNSJ1t7EFBkJpYDRBg1x72XG+A', 'a2')",
    );

    // Every era logs in, and its hash is upgraded to argon2id.
    let (_host, app) = serve(&pg, "legacy", &[]);
    for (id, pw) in [
        ("legacy_pbkdf2", "legacy pass 1"),
        ("legacy_plain", "test_password123"),
        ("legacy_bang", "!bang-plaintext"),
        ("django_argon2", "correct horse"),
        ("django_bcrypt_sha256", "correct horse"),
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
        &json!({"id": "legacy_unusable", "pw": UNUSABLE}),
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
