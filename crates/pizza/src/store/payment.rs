//! SQL of the member's side of payments: paying again after a decline, and
//! the provider's webhooks turned into saga events.

use crate::auth::Authorized;
use crate::db::{Db, DbError, column, nullable, optional_text, single_row, text};
use crate::order::lifecycle::State;
use crate::payments::saga::Reported;
use crate::token::VerifiedToken;
use spin_sdk::pg4::ParameterValue;

/// What asking to pay an order again did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repaid {
    /// The member has no such order.
    NoSuchOrder,
    /// A new attempt was started (or, for a key already used on this order,
    /// had been): its number.
    Started {
        /// The attempt.
        attempt: i32,
    },
    /// The key started an attempt with another payment method; nothing
    /// was written.
    KeyReused,
    /// The order is not `payment_failed`; nothing was written.
    Unmoved {
        /// Its state.
        state: State,
    },
}

/// Starts the next payment attempt of the member's `payment_failed` order
/// with `method`, under the member's idempotency `key`, in ONE statement: the
/// order goes back to `payment_pending` (version, history) and a
/// `payment.requested` event asks the relay to pay. A key already used on
/// this order answers its attempt again and writes nothing.
pub fn pay_again(
    db: &Db,
    token: &VerifiedToken,
    order_id: i32,
    method: &str,
    key: &str,
) -> Result<Authorized<Repaid>, DbError> {
    let rows = db.query(
        PAY_AGAIN,
        &[
            ParameterValue::Int32(order_id),
            text(&token.member_id),
            text(method),
            text(key),
            text(&token.revocation_id),
            ParameterValue::Int64(token.issued_at as i64),
        ],
    )?;
    let row = single_row(&rows, "pay again")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    if let Some(earlier) = nullable::<String>(&row, "earlier_method")
        && earlier != method
    {
        return Ok(Authorized::Granted(Repaid::KeyReused));
    }
    let attempt = nullable::<i32>(&row, "new_attempt").or(nullable(&row, "earlier_attempt"));
    Ok(Authorized::Granted(
        match (attempt, nullable::<String>(&row, "state")) {
            (Some(attempt), _) => Repaid::Started { attempt },
            (None, None) => Repaid::NoSuchOrder,
            (None, Some(state)) => Repaid::Unmoved {
                state: State::from_column(Some(&state))
                    .ok_or_else(|| DbError::Failed(format!("unknown order state {state:?}")))?,
            },
        },
    ))
}

/// The attempt and method a key started on an order, if its statement has
/// committed (for a concurrent duplicate that found the order moved; the
/// caller saw that the order is the member's).
pub fn attempt_by_key(db: &Db, order_id: i32, key: &str) -> Result<Option<(i32, String)>, DbError> {
    let rows = db.query(
        "SELECT attempt, method::text AS method FROM order_payment
         WHERE order_id = $1::int4 AND request_key = $2::text",
        &[ParameterValue::Int32(order_id), text(key)],
    )?;
    rows.rows()
        .next()
        .map(|row| Ok((column(&row, "attempt")?, column(&row, "method")?)))
        .transpose()
}

const PAY_AGAIN: &str = r#"
WITH revoked AS (
    SELECT token_revoked($5::text, $2::text, $6::int8) AS yes
),
earlier AS (
    SELECT p.attempt, p.method FROM order_payment p
    JOIN orders o ON o.order_id = p.order_id AND o.member_id = $2::text
    WHERE p.order_id = $1::int4 AND p.request_key = $4::text
),
found AS (
    SELECT o.state FROM orders o, revoked r
    WHERE o.order_id = $1::int4 AND o.member_id = $2::text AND NOT r.yes
),
last AS (
    SELECT p.attempt, p.amount_minor, p.currency FROM order_payment p
    WHERE p.order_id = $1::int4 ORDER BY p.attempt DESC LIMIT 1
),
moved AS (
    UPDATE orders o SET state = 'payment_pending', version = o.version + 1
    FROM revoked r
    WHERE o.order_id = $1::int4 AND o.member_id = $2::text AND o.state = 'payment_failed'
      AND NOT r.yes AND NOT EXISTS (SELECT 1 FROM earlier) AND EXISTS (SELECT 1 FROM last)
    RETURNING o.order_id, o.bran_id, o.version
),
attempt_row AS (
    INSERT INTO order_payment (order_id, attempt, method, amount_minor, currency, request_key)
    SELECT m.order_id, l.attempt + 1, $3::text, l.amount_minor, l.currency, $4::text
    FROM moved m, last l
    RETURNING attempt
),
history_row AS (
    INSERT INTO order_history (order_id, bran_id, version, from_state, to_state, actor,
                               actor_role)
    SELECT m.order_id, m.bran_id, m.version, 'payment_failed', 'payment_pending', $2::text,
           'member'
    FROM moved m
),
event_row AS (
    INSERT INTO outbox (event_type, aggregate_id, payload)
    SELECT 'payment.requested', m.order_id::text,
           jsonb_build_object('order_id', m.order_id, 'attempt', l.attempt + 1,
                              'method', $3::text, 'version', m.version)
    FROM moved m, last l
)
SELECT r.yes AS revoked,
       (SELECT f.state::text FROM found f) AS state,
       (SELECT e.attempt FROM earlier e) AS earlier_attempt,
       (SELECT e.method::text FROM earlier e) AS earlier_method,
       (SELECT a.attempt FROM attempt_row a) AS new_attempt
FROM revoked r
"#;

/// Records a webhook delivery by its id (`signature::delivery_id`) and, if it is new,
/// the event it reports (`None`: nothing the saga acts on), in one statement
/// that also forgets deliveries past the signatures' window. `false`: the
/// delivery was received before, a replay; nothing was written.
pub fn receive(db: &Db, delivery: &str, reported: Option<&Reported>) -> Result<bool, DbError> {
    let rows = db.query(
        "WITH purge AS (
             DELETE FROM payment_webhook_receipt WHERE received_at < now() - interval '10 minutes'
         ),
         receipt AS (
             INSERT INTO payment_webhook_receipt (signature) VALUES ($1::text)
             ON CONFLICT DO NOTHING
             RETURNING signature
         ),
         event_row AS (
             INSERT INTO outbox (event_type, aggregate_id, payload, dedupe_key)
             SELECT $2::text, $3::text, $4::text::jsonb, $5::text
             FROM receipt
             WHERE $2::text IS NOT NULL
             ON CONFLICT (event_type, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         )
         SELECT EXISTS (SELECT 1 FROM receipt) AS fresh",
        &[
            text(delivery),
            optional_text(reported.map(|r| r.event_type)),
            optional_text(reported.map(|r| r.order_id.to_string()).as_deref()),
            optional_text(reported.map(|r| r.payload.as_str())),
            optional_text(reported.map(|r| r.dedupe_key.as_str())),
        ],
    )?;
    column(&single_row(&rows, "webhook receipt")?, "fresh")
}
