//! `pizza-db purge` deletes exactly the rows past their retention, on a database
//! adopted from the Django services.

mod common;

use common::{DJANGO_SCHEMA, Database, migrations_dir};

#[test]
fn purge_deletes_what_is_past_retention_and_keeps_the_rest() {
    let db = Database::with(DJANGO_SCHEMA);
    pizza_db::migrate(&mut db.client(), &migrations_dir()).unwrap();
    db.psql(
        "INSERT INTO login_attempt (scope, subject, attempts, window_start) VALUES
           ('pair', 'old 1.2.3.4', 5, now() - interval '2 hours'),
           ('register', '1.2.3.4', 3, now() - interval '59 minutes');
         INSERT INTO revoked_token (jti, member_id, expires_at) VALUES
           ('gone', 'm', now() - interval '1 second'),
           ('live', 'm', now() + interval '1 hour');
         INSERT INTO order_idempotency (member_id, idem_key, request_hash, response, created_at) VALUES
           ('m', 'old', 'h', '{}', now() - interval '25 hours'),
           ('m', 'new', 'h', '{}', now() - interval '23 hours');
         INSERT INTO outbox (event_type, aggregate_id, payload, published_at) VALUES
           ('order.created', '1', '{}', now() - interval '2 days'),
           ('order.created', '2', '{}', now() - interval '1 hour'),
           ('order.created', '3', '{}', NULL);",
    );
    let out = db.pizza_db(&["purge"]);
    assert_eq!(
        out.trim(),
        "purge: login_attempt 1, revoked_token 1, order_idempotency 1, outbox 1"
    );
    assert_eq!(
        db.psql("SELECT string_agg(scope, ',') FROM login_attempt"),
        "register"
    );
    assert_eq!(
        db.psql("SELECT string_agg(jti, ',') FROM revoked_token"),
        "live"
    );
    assert_eq!(
        db.psql("SELECT string_agg(idem_key, ',') FROM order_idempotency"),
        "new"
    );
    assert_eq!(
        db.psql("SELECT string_agg(aggregate_id, ',' ORDER BY aggregate_id) FROM outbox"),
        "2,3"
    );
    // Nothing left to purge: a second run deletes nothing.
    assert_eq!(
        db.pizza_db(&["purge"]).trim(),
        "purge: login_attempt 0, revoked_token 0, order_idempotency 0, outbox 0"
    );
}
