//! SQL of the saga's relay: claiming due events, and each step's write, one
//! statement each, which also settles the event (handled, or tried again
//! later, or dead-lettered), so a step's effect and its bookkeeping commit
//! together.
//!
//! Every move is conditional on the state it leaves, so a step that runs
//! twice writes nothing the second time.

use super::order::lifecycle::recorded;
use crate::db::{Db, DbError, column, json, nullable, optional_text, single_row, text, text_array};
use crate::payments::gateway::{PayOutcome, RefundOutcome};
use crate::payments::saga::{EVENT_TYPES, Retry};
use serde_json::Value;
use spin_sdk::pg4::ParameterValue;

/// An event the relay claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// Its id.
    pub event_id: i64,
    /// Its type, one of [`EVENT_TYPES`].
    pub event_type: String,
    /// Its payload.
    pub payload: Value,
    /// Tries so far, this one included.
    pub attempts: i32,
}

/// Claims up to `batch` due events for `lease_secs`, oldest due first, in one
/// statement: `FOR UPDATE SKIP LOCKED` passes over rows another relay is
/// claiming, and the lease keeps them from every other relay until this one
/// settles them or the lease runs out (a relay that died: the event is
/// claimed again, at least once).
pub fn claim(db: &Db, batch: i32, lease_secs: i32) -> Result<Vec<Claimed>, DbError> {
    let rows = db.query(
        "UPDATE outbox o
         SET attempts = o.attempts + 1,
             claimed_until = now() + $2::int4 * interval '1 second'
         WHERE o.event_id IN (
             SELECT e.event_id FROM outbox e
             WHERE e.handled_at IS NULL AND e.dead_at IS NULL
               AND e.event_type IN ('order.placed', 'payment.requested', 'payment.succeeded',
                                    'payment.failed', 'order.cancelled', 'refund.succeeded')
               AND e.event_type = ANY($3::text[])
               AND e.next_attempt_at <= now()
               AND (e.claimed_until IS NULL OR e.claimed_until < now())
             ORDER BY e.next_attempt_at, e.event_id
             LIMIT $1::int4
             FOR UPDATE SKIP LOCKED)
         RETURNING o.event_id, o.event_type::text AS event_type, o.payload::text AS payload,
                   o.attempts",
        &[
            ParameterValue::Int32(batch),
            ParameterValue::Int32(lease_secs),
            text_array(&EVENT_TYPES),
        ],
    )?;
    let mut claimed: Vec<Claimed> = rows
        .rows()
        .map(|row| {
            Ok(Claimed {
                event_id: column(&row, "event_id")?,
                event_type: column(&row, "event_type")?,
                payload: json(&row, "payload")?.unwrap_or(Value::Null),
                attempts: column(&row, "attempts")?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    claimed.sort_by_key(|c| c.event_id);
    Ok(claimed)
}

/// How a step settles its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Done.
    Handled,
    /// Not done: as [`Retry`] says, with what went wrong.
    Retry(Retry, String),
}

/// The CTE that settles event `$n`, with its four parameters from `$n`.
fn settle_cte(n: usize) -> String {
    let (id, handled, delay, dead) = (n, n + 1, n + 2, n + 3);
    let error = n + 4;
    format!(
        "settled AS (
             UPDATE outbox o SET claimed_until = NULL,
                 handled_at = CASE WHEN ${handled}::bool THEN now() END,
                 next_attempt_at = CASE WHEN ${handled}::bool THEN o.next_attempt_at
                                        ELSE now() + ${delay}::int8 * interval '1 millisecond' END,
                 dead_at = CASE WHEN ${dead}::bool THEN now() END,
                 last_error = ${error}::text
             WHERE o.event_id = ${id}::int8
         )"
    )
}

fn settle_params(event_id: i64, settle: &Settle) -> [ParameterValue; 5] {
    let (handled, delay, dead, error) = match settle {
        Settle::Handled => (true, 0, false, None),
        Settle::Retry(Retry::After(ms), e) => (false, *ms as i64, false, Some(e.as_str())),
        Settle::Retry(Retry::DeadLetter, e) => (false, 0, true, Some(e.as_str())),
    };
    [
        ParameterValue::Int64(event_id),
        ParameterValue::Boolean(handled),
        ParameterValue::Int64(delay),
        ParameterValue::Boolean(dead),
        optional_text(error.map(|e| &e[..e.len().min(1000)])),
    ]
}

/// Settles an event and writes nothing else.
pub fn settle(db: &Db, event_id: i64, how: &Settle) -> Result<(), DbError> {
    let sql = format!("WITH {} SELECT 1 AS done", settle_cte(1));
    db.query(&sql, &settle_params(event_id, how))?;
    Ok(())
}

/// A payment attempt the relay is asked to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Whether it is still to be taken: the order is `payment_pending` and
    /// this is its latest attempt (else the step has nothing to do).
    pub due: bool,
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The member's payment method.
    pub method: String,
    /// The intent an earlier try made, if any.
    pub intent_id: Option<String>,
}

/// Attempt `attempt` of an order's payment, if there is one.
pub fn attempt(db: &Db, order_id: i32, attempt: i32) -> Result<Option<Attempt>, DbError> {
    let rows = db.query(
        "SELECT p.amount_minor, p.currency::text AS currency, p.method::text AS method,
                p.intent_id::text AS intent_id,
                (o.state = 'payment_pending'
                 AND p.attempt = (SELECT max(q.attempt) FROM order_payment q
                                  WHERE q.order_id = p.order_id)) AS due
         FROM order_payment p JOIN orders o ON o.order_id = p.order_id
         WHERE p.order_id = $1::int4 AND p.attempt = $2::int4",
        &[
            ParameterValue::Int32(order_id),
            ParameterValue::Int32(attempt),
        ],
    )?;
    rows.rows()
        .next()
        .map(|row| {
            Ok(Attempt {
                due: nullable(&row, "due").unwrap_or(false),
                amount_minor: column(&row, "amount_minor")?,
                currency: column(&row, "currency")?,
                method: column(&row, "method")?,
                intent_id: nullable(&row, "intent_id"),
            })
        })
        .transpose()
}

/// Records what the provider said of a payment attempt and settles the
/// event, in one statement: the attempt's intent and status, and for a
/// decided payment a `payment.succeeded`/`payment.failed` event, the same
/// one a webhook reports (deduplicated by intent).
pub fn record_payment(
    db: &Db,
    event_id: i64,
    order_id: i32,
    attempt: i32,
    outcome: &PayOutcome,
    how: &Settle,
) -> Result<(), DbError> {
    let (status, intent_id, code, event_type) = match outcome {
        PayOutcome::Succeeded { intent_id } => (
            "succeeded",
            Some(intent_id),
            None,
            Some("payment.succeeded"),
        ),
        PayOutcome::Processing { intent_id } => ("processing", Some(intent_id), None, None),
        PayOutcome::Failed { intent_id, code } => (
            "failed",
            intent_id.as_ref(),
            Some(code),
            Some("payment.failed"),
        ),
    };
    let sql = format!(
        "WITH attempt_row AS (
             UPDATE order_payment p
             SET intent_id = coalesce($3::text, p.intent_id),
                 status = CASE WHEN p.status = 'succeeded' THEN p.status ELSE $4::text END,
                 failure_code = $5::text
             WHERE p.order_id = $1::int4 AND p.attempt = $2::int4
         ),
         event_row AS (
             INSERT INTO outbox (event_type, aggregate_id, payload, dedupe_key)
             SELECT $6::text, $1::int4::text,
                    jsonb_strip_nulls(jsonb_build_object('order_id', $1::int4, 'attempt', $2::int4,
                                                         'intent_id', $3::text, 'code', $5::text)),
                    coalesce($3::text, 'order-' || $1::int4 || '-payment-' || $2::int4)
             WHERE $6::text IS NOT NULL
             ON CONFLICT (event_type, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         ),
         {}
         SELECT 1 AS done",
        settle_cte(7)
    );
    let mut params = vec![
        ParameterValue::Int32(order_id),
        ParameterValue::Int32(attempt),
        optional_text(intent_id.map(String::as_str)),
        text(status),
        optional_text(code.map(String::as_str)),
        optional_text(event_type),
    ];
    params.extend(settle_params(event_id, how));
    db.query(&sql, &params)?;
    Ok(())
}

/// A move's history row and event, made by the relay (`payments`, as `system`).
fn by_the_relay(from: &str, to: &str, reason: &str) -> String {
    recorded(from, to, "'payments'", "'system'", reason)
}

/// A move the relay makes on the provider's word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemMove<'a> {
    /// The order.
    pub order_id: i32,
    /// The state it must be in.
    pub from: &'a str,
    /// The state it goes to.
    pub to: &'a str,
    /// For a payment's outcome: the attempt, which must be the order's
    /// latest, and the status that attempt gets.
    pub attempt: Option<(i32, &'a str)>,
    /// The history's reason (a decline's code).
    pub reason: Option<&'a str>,
}

/// Moves an order as the relay (`system`), if it is in `from` (and, for a
/// payment's outcome, the attempt is its latest), with version, history and
/// an `order.<to>` event, and settles the event as handled: one statement.
/// Whether the order moved.
pub fn system_move(db: &Db, event_id: i64, step: &SystemMove<'_>) -> Result<bool, DbError> {
    let sql = format!(
        "WITH moved AS (
             UPDATE orders o SET state = $3::text, version = o.version + 1
             WHERE o.order_id = $1::int4 AND o.state = $2::text
               AND ($4::int4 IS NULL OR $4::int4 = (SELECT max(p.attempt) FROM order_payment p
                                                    WHERE p.order_id = o.order_id))
             RETURNING o.order_id, o.bran_id, o.member_id, o.version
         ),
         attempt_row AS (
             UPDATE order_payment p SET status = $5::text
             WHERE $4::int4 IS NOT NULL AND p.order_id = $1::int4 AND p.attempt = $4::int4
               AND p.status <> 'succeeded'
         ),
         {},
         {}
         SELECT EXISTS (SELECT 1 FROM moved) AS moved",
        by_the_relay("$2::text", "$3::text", "$6::text"),
        settle_cte(7)
    );
    let mut params = vec![
        ParameterValue::Int32(step.order_id),
        text(step.from),
        text(step.to),
        step.attempt
            .map_or(ParameterValue::DbNull, |(a, _)| ParameterValue::Int32(a)),
        optional_text(step.attempt.map(|(_, status)| status)),
        optional_text(step.reason),
    ];
    params.extend(settle_params(event_id, &Settle::Handled));
    column(
        &single_row(&db.query(&sql, &params)?, "system move")?,
        "moved",
    )
}

/// What a cancelled order's refund needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToRefund {
    /// Nothing was taken (or it was given back already); the event is settled.
    Nothing,
    /// Give back `amount_minor` taken by `intent_id`; the order is `refund_pending`.
    Money {
        /// The intent that took it.
        intent_id: String,
        /// Minor units.
        amount_minor: i64,
    },
}

/// For a cancelled order: if money was taken, moves it to `refund_pending`
/// (version, history, event) and says what to give back; else settles the
/// event. One statement.
pub fn prepare_refund(db: &Db, event_id: i64, order_id: i32) -> Result<ToRefund, DbError> {
    let sql = format!(
        "WITH taken AS (
             SELECT p.intent_id, p.amount_minor FROM order_payment p
             WHERE p.order_id = $1::int4 AND p.status = 'succeeded' AND p.intent_id IS NOT NULL
             ORDER BY p.attempt DESC LIMIT 1
         ),
         before AS (
             SELECT o.state FROM orders o WHERE o.order_id = $1::int4
         ),
         due AS (
             SELECT t.* FROM taken t, before b WHERE b.state IN ('cancelled', 'refund_pending')
         ),
         moved AS (
             UPDATE orders o SET state = 'refund_pending', version = o.version + 1
             WHERE o.order_id = $1::int4 AND o.state = 'cancelled' AND EXISTS (SELECT 1 FROM due)
             RETURNING o.order_id, o.bran_id, o.member_id, o.version
         ),
         {},
         {}
         SELECT (SELECT d.intent_id::text FROM due d) AS intent_id,
                (SELECT d.amount_minor FROM due d) AS amount_minor",
        by_the_relay("'cancelled'", "'refund_pending'", "NULL::text"),
        settle_cte(2).replace(
            "WHERE o.event_id = $2::int8",
            "WHERE o.event_id = $2::int8 AND NOT EXISTS (SELECT 1 FROM due)"
        )
    );
    let mut params = vec![ParameterValue::Int32(order_id)];
    params.extend(settle_params(event_id, &Settle::Handled));
    let rows = db.query(&sql, &params)?;
    let row = single_row(&rows, "prepare refund")?;
    Ok(
        match (
            nullable::<String>(&row, "intent_id"),
            nullable::<i64>(&row, "amount_minor"),
        ) {
            (Some(intent_id), Some(amount_minor)) => ToRefund::Money {
                intent_id,
                amount_minor,
            },
            _ => ToRefund::Nothing,
        },
    )
}

/// Records what the provider said of a refund and settles the event: a
/// decided refund writes `refund.succeeded` (deduplicated by refund, as its
/// webhook's). One statement.
pub fn record_refund(
    db: &Db,
    event_id: i64,
    order_id: i32,
    outcome: &RefundOutcome,
    how: &Settle,
) -> Result<(), DbError> {
    let (refund_id, done) = match outcome {
        RefundOutcome::Succeeded { refund_id } => (refund_id, true),
        RefundOutcome::Pending { refund_id } => (refund_id, false),
    };
    let sql = format!(
        "WITH attempt_row AS (
             UPDATE order_payment p SET refund_id = $2::text
             WHERE p.order_id = $1::int4 AND p.status = 'succeeded'
         ),
         event_row AS (
             INSERT INTO outbox (event_type, aggregate_id, payload, dedupe_key)
             SELECT 'refund.succeeded', $1::int4::text,
                    jsonb_build_object('order_id', $1::int4, 'refund_id', $2::text), $2::text
             WHERE $3::bool
             ON CONFLICT (event_type, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         ),
         {}
         SELECT 1 AS done",
        settle_cte(4)
    );
    let mut params = vec![
        ParameterValue::Int32(order_id),
        text(refund_id),
        ParameterValue::Boolean(done),
    ];
    params.extend(settle_params(event_id, how));
    db.query(&sql, &params)?;
    Ok(())
}
