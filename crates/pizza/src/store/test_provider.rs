//! SQL of the test payment provider's books (`test_provider_*`, migration
//! 0016): intents, refunds and outages. The test provider is another
//! company's service stood in for; nothing of the shop reads these tables
//! (the tests do, to count intents per order).

use crate::db::{Db, DbError, column, json, nullable, single_row, text};
use crate::payments::provider::{Intent, PaymentError, Refund};
use crate::payments::test_cards::DELAY_SECS;
use spin_sdk::pg4::{ParameterValue, Row};

/// Whether the provider is in an outage now.
pub fn down(db: &Db) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT EXISTS (SELECT 1 FROM test_provider_outage WHERE down_until > now()) AS down",
        &[],
    )?;
    column(&single_row(&rows, "outage")?, "down")
}

const INTENT_COLUMNS: &str = "intent_id::text AS intent_id, status::text AS status, amount,
    currency::text AS currency, metadata::text AS metadata, failure_code::text AS failure_code";

/// A statement that makes a change to one intent (`change`, a CTE named
/// `changed` that returns [`INTENT_COLUMNS`] and `fresh`) or else reads it as
/// it is (`WHERE current`): the row either way, and whether it changed.
fn changed_or_current(change: &str, current: &str) -> String {
    format!(
        "WITH changed AS ({change})
         SELECT * FROM changed
         UNION ALL
         SELECT {INTENT_COLUMNS}, false FROM test_provider_intent
         WHERE {current} AND NOT EXISTS (SELECT 1 FROM changed)"
    )
}

fn intent(row: &Row<'_>) -> Result<Intent, DbError> {
    Ok(Intent {
        id: column(row, "intent_id")?,
        status: column(row, "status")?,
        amount: column(row, "amount")?,
        currency: column(row, "currency")?,
        metadata: json(row, "metadata")?.unwrap_or_default(),
        last_payment_error: nullable::<String>(row, "failure_code").map(|code| PaymentError {
            decline_code: (code != "card_declined").then(|| code.clone()),
            code: if code == "invalid_payment_method" {
                code
            } else {
                "card_declined".into()
            },
        }),
    })
}

/// A new intent under `key`, or the one an earlier call with `key` made
/// (`None`: a concurrent call with `key` has not committed yet).
pub fn create_intent(
    db: &Db,
    key: &str,
    new_id: &str,
    amount: i64,
    currency: &str,
    method: &str,
    metadata: &str,
) -> Result<Option<Intent>, DbError> {
    let sql = changed_or_current(
        &format!(
            "INSERT INTO test_provider_intent (intent_id, idempotency_key, amount, currency,
                                               payment_method, metadata, status)
             VALUES ($2::text, $1::text, $3::int8, $4::text, $5::text, $6::text::jsonb,
                     'requires_confirmation')
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING {INTENT_COLUMNS}, true AS fresh"
        ),
        "idempotency_key = $1::text",
    );
    let rows = db.query(
        &sql,
        &[
            text(key),
            text(new_id),
            ParameterValue::Int64(amount),
            text(currency),
            text(method),
            text(metadata),
        ],
    )?;
    rows.rows().next().map(|row| intent(&row)).transpose()
}

/// An intent's payment method, if the intent exists.
pub fn method_of(db: &Db, intent_id: &str) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT payment_method::text AS method FROM test_provider_intent WHERE intent_id = $1::text",
        &[text(intent_id)],
    )?;
    Ok(rows.rows().next().and_then(|row| nullable(&row, "method")))
}

/// Confirms an intent awaiting confirmation with `status` (and a decline's
/// `failure_code`): the intent, and whether this call confirmed it (an
/// intent confirmed before is returned as it is).
pub fn confirm(
    db: &Db,
    intent_id: &str,
    status: &str,
    failure_code: Option<&str>,
) -> Result<Option<(Intent, bool)>, DbError> {
    let sql = changed_or_current(
        &format!(
            "UPDATE test_provider_intent SET status = $2::text, failure_code = $3::text,
                                             confirmed_at = now()
             WHERE intent_id = $1::text AND status = 'requires_confirmation'
             RETURNING {INTENT_COLUMNS}, true AS fresh"
        ),
        "intent_id = $1::text",
    );
    let rows = db.query(
        &sql,
        &[
            text(intent_id),
            text(status),
            crate::db::optional_text(failure_code),
        ],
    )?;
    rows.rows()
        .next()
        .map(|row| Ok((intent(&row)?, column(&row, "fresh")?)))
        .transpose()
}

/// An intent as it is now: a `processing` one confirmed more than the
/// delayed cards' delay ago has succeeded.
pub fn retrieve(db: &Db, intent_id: &str) -> Result<Option<Intent>, DbError> {
    let sql = changed_or_current(
        &format!(
            "UPDATE test_provider_intent SET status = 'succeeded'
             WHERE intent_id = $1::text AND status = 'processing'
               AND confirmed_at <= now() - $2::int8 * interval '1 second'
             RETURNING {INTENT_COLUMNS}, true AS fresh"
        ),
        "intent_id = $1::text",
    );
    let rows = db.query(
        &sql,
        &[text(intent_id), ParameterValue::Int64(DELAY_SECS as i64)],
    )?;
    rows.rows().next().map(|row| intent(&row)).transpose()
}

/// What a refund call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refunded {
    /// Made now or by an earlier call with the key.
    Done(Refund),
    /// No succeeded intent by that id.
    NotRefundable,
    /// A concurrent call with the key has not committed yet.
    InFlight,
}

/// Refunds a succeeded intent under `key`, or returns the refund an earlier
/// call with `key` made.
pub fn refund(
    db: &Db,
    key: &str,
    new_id: &str,
    intent_id: &str,
    amount: i64,
    order_id: &str,
) -> Result<Refunded, DbError> {
    let rows = db.query(
        "WITH target AS (
             SELECT intent_id FROM test_provider_intent
             WHERE intent_id = $3::text AND status = 'succeeded'
         ),
         made AS (
             INSERT INTO test_provider_refund (refund_id, idempotency_key, intent_id, amount)
             SELECT $2::text, $1::text, t.intent_id, $4::int8 FROM target t
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING refund_id::text AS refund_id, intent_id::text AS intent_id, amount
         ),
         found AS (
             SELECT * FROM made
             UNION ALL
             SELECT refund_id::text, intent_id::text, amount FROM test_provider_refund
             WHERE idempotency_key = $1::text AND NOT EXISTS (SELECT 1 FROM made)
         )
         SELECT EXISTS (SELECT 1 FROM target) AS refundable, f.*
         FROM (SELECT 1) one LEFT JOIN found f ON true",
        &[
            text(key),
            text(new_id),
            text(intent_id),
            ParameterValue::Int64(amount),
        ],
    )?;
    let row = single_row(&rows, "test refund")?;
    Ok(match nullable::<String>(&row, "refund_id") {
        Some(id) => Refunded::Done(Refund {
            id,
            status: "succeeded".into(),
            payment_intent: column(&row, "intent_id")?,
            amount: column(&row, "amount")?,
            metadata: crate::payments::provider::Metadata {
                order_id: Some(order_id.to_owned()),
                attempt: None,
            },
        }),
        None if column::<bool>(&row, "refundable")? => Refunded::InFlight,
        None => Refunded::NotRefundable,
    })
}
