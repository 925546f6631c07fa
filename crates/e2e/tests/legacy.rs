//! Adopting the database the Django services built and filled: the migrations
//! keep every row and column type, hash leftover plaintext passwords, and
//! members of both eras can log in (their hashes upgraded to argon2id).

use pizza_e2e::{prepare_database, psql, serve};
use serde_json::json;
use testkit::Postgres;

/// The Django-shaped schema (contract section 5.1, with the hand-made integer
/// ids of production but no defaults) and its framework tables, filled.
const DJANGO_SCHEMA: &str = r#"
CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
INSERT INTO django_migrations (app, name, applied) VALUES ('authapp', '0001_initial', now()), ('catalog', '0001_initial', now()), ('orders', '0001_initial', now());
CREATE TABLE auth_user (id serial PRIMARY KEY, password varchar(128) NOT NULL, username varchar(150) NOT NULL UNIQUE);
INSERT INTO auth_user (password, username) VALUES ('!unusable', 'admin');
CREATE TABLE member (member_id varchar(100) PRIMARY KEY, member_pwd varchar(100) NOT NULL, member_nm varchar(100) NOT NULL);
INSERT INTO member VALUES
  ('legacy_pbkdf2', 'pbkdf2_sha256$260000$Jx8kQm2wT5bz$CnC45cpn28DvxYugzB9mnmN30e14BLnuUMkAfxKF50Y=', '장고'),
  ('legacy_plain', 'test_password123', '평문'),
  ('legacy_unusable', '!x', 'nobody');
CREATE TABLE pizza_types (pizza_type_id varchar(50) PRIMARY KEY, pizza_nm varchar(50) NOT NULL, pizza_categ varchar(50) NOT NULL, pizza_img_url varchar(100) NOT NULL);
INSERT INTO pizza_types VALUES ('PT001', '페페로니', 'Classic', 'images/pepperoni.png');
CREATE TABLE pizza (pizza_id varchar(50) PRIMARY KEY, pizza_type_id varchar(50) NOT NULL REFERENCES pizza_types DEFERRABLE INITIALLY DEFERRED, size varchar(50) NOT NULL, price double precision NOT NULL);
INSERT INTO pizza VALUES ('PIZZA_001_L', 'PT001', 'L', 25000.0);
CREATE TABLE branch (bran_id varchar(100) PRIMARY KEY, bran_nm varchar(100) NOT NULL);
INSERT INTO branch VALUES ('BRANCH001', '강남점');
CREATE TABLE orders (order_id integer PRIMARY KEY, member_id varchar(50) NOT NULL, bran_id varchar(100) NOT NULL REFERENCES branch DEFERRABLE INITIALLY DEFERRED, date varchar(50) NOT NULL, time varchar(50) NOT NULL);
INSERT INTO orders VALUES (17, 'legacy_pbkdf2', 'BRANCH001', '2025-10-15', '18:47:41');
CREATE TABLE order_detail (order_detail_id integer PRIMARY KEY, order_id integer NOT NULL REFERENCES orders DEFERRABLE INITIALLY DEFERRED, pizza_id varchar(50) NOT NULL, quantity integer NOT NULL);
INSERT INTO order_detail VALUES (40, 17, 'PIZZA_001_L', 2);
"#;

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
