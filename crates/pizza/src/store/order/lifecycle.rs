//! SQL of the order's life after placing: reading one order, the kitchen's
//! queue, the numbers live status waits on, and moving an order (one
//! statement: state, version, history row and outbox event, or nothing).
//!
//! `orders.state` is NULL for legacy orders, which read as `completed`.

use crate::auth::Authorized;
use crate::db::{Db, DbError, column, json, nullable, optional_text, single_row, text, text_array};
use crate::order::lifecycle::{Actor, State};
use crate::order::queue::QueuedOrder;
use crate::order::view::{OrderView, Step, ViewLine};
use crate::store::price;
use crate::token::VerifiedToken;
use spin_sdk::pg4::{ParameterValue, Row};
use std::sync::LazyLock;

/// The names of `states`, as a `text[]` parameter.
fn state_names(states: &[State]) -> ParameterValue {
    text_array(&states.iter().map(|s| s.as_str()).collect::<Vec<_>>())
}

/// An order's lines as JSON text, oldest first (a fragment of the reads).
const LINES_JSON: &str = "(SELECT json_agg(json_build_object(
        'pizza_id', d.pizza_id, 'quantity', d.quantity,
        'unit_price', d.unit_price) ORDER BY d.order_detail_id)::text
     FROM order_detail d WHERE d.order_id = o.order_id)";

/// One order as the token's member may see it: their own, or one of a
/// branch they run. `None` when there is no such order or it is not theirs
/// to see.
pub fn order_view(
    db: &Db,
    order_id: i32,
    token: &VerifiedToken,
) -> Result<Authorized<Option<OrderView>>, DbError> {
    let sql = format!(
        "SELECT r.revoked, v.*
         FROM (SELECT token_revoked($5::text, $2::text, $6::int8) AS revoked) r
         LEFT JOIN LATERAL (
             SELECT o.order_id::int8 AS order_id, o.member_id::text AS member_id,
                    o.bran_id::text AS bran_id, o.\"date\"::text AS order_date,
                    o.\"time\"::text AS order_time, o.state::text AS state,
                    o.version::int8 AS version,
                    {LINES_JSON} AS lines,
                    (SELECT CASE WHEN bool_and(d.unit_price IS NOT NULL)
                                 THEN sum(d.quantity * d.unit_price)::text END
                     FROM order_detail d WHERE d.order_id = o.order_id) AS total,
                    (SELECT json_agg(json_build_object(
                         'from', h.from_state, 'to', h.to_state, 'by', h.actor,
                         'role', h.actor_role, 'reason', h.reason, 'version', h.version,
                         'at', to_char(h.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))
                         ORDER BY h.history_id)::text
                     FROM order_history h WHERE h.order_id = o.order_id) AS history
             FROM orders o
             WHERE o.order_id = $1::int4 AND NOT r.revoked
               AND (o.member_id = $2::text OR $3::bool OR o.bran_id = ANY($4::text[]))
         ) v ON true"
    );
    let rows = db.query(
        &sql,
        &[
            ParameterValue::Int32(order_id),
            text(&token.member_id),
            ParameterValue::Boolean(token.roles.admin),
            text_array(&token.roles.staff),
            text(&token.revocation_id),
            ParameterValue::Int64(token.issued_at as i64),
        ],
    )?;
    let row = single_row(&rows, "order view")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    if nullable::<i64>(&row, "order_id").is_none() {
        return Ok(Authorized::Granted(None));
    }
    Ok(Authorized::Granted(Some(OrderView {
        order_id: column(&row, "order_id")?,
        member_id: column(&row, "member_id")?,
        bran_id: column(&row, "bran_id")?,
        date: nullable(&row, "order_date"),
        time: nullable(&row, "order_time"),
        state: state(&row)?,
        version: column(&row, "version")?,
        total: nullable::<String>(&row, "total")
            .map(|t| price(&t))
            .transpose()?,
        lines: json::<Vec<ViewLine>>(&row, "lines")?.unwrap_or_default(),
        history: json::<Vec<Step>>(&row, "history")?.unwrap_or_default(),
        next: Vec::new(),
    })))
}

/// An order's version, for a live-status wait that already saw the order.
pub fn order_version(db: &Db, order_id: i32) -> Result<i64, DbError> {
    let rows = db.query(
        "SELECT coalesce((SELECT version::int8 FROM orders WHERE order_id = $1::int4), 0)
             AS version",
        &[ParameterValue::Int32(order_id)],
    )?;
    column(&single_row(&rows, "order version")?, "version")
}

/// A branch's change marker: the last history row written for its orders
/// (0 before the first). Every placement and transition writes one.
pub fn queue_marker(db: &Db, branch: &str) -> Result<i64, DbError> {
    let rows = db.query(
        "SELECT coalesce((SELECT max(history_id) FROM order_history WHERE bran_id = $1::text), 0)::int8
             AS marker",
        &[text(branch)],
    )?;
    column(&single_row(&rows, "queue marker")?, "marker")
}

/// A page of the kitchen's queue and the branch's marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// The branch's change marker when the page was read.
    pub marker: i64,
    /// Up to `limit` + 1 orders: one more tells that a next page exists.
    pub orders: Vec<QueuedOrder>,
}

/// `branch`'s open orders in `states` after order id `cursor`, oldest first,
/// at most `limit` + 1 of them, with the branch's marker, unless the token is
/// revoked. Whether the asker runs the branch is the caller's check.
pub fn queue(
    db: &Db,
    branch: &str,
    states: &[State],
    cursor: i64,
    limit: i32,
    token: &VerifiedToken,
) -> Result<Authorized<Queue>, DbError> {
    // `o.state IN (...)` is orders_kitchen_idx's predicate (migration 0016),
    // the states `State::is_open` names, so the partial index serves it.
    let sql = format!(
        "SELECT r.revoked,
                (SELECT coalesce(max(h.history_id), 0)::int8 FROM order_history h
                 WHERE h.bran_id = $1::text) AS marker,
                q.*
         FROM (SELECT token_revoked($5::text, $6::text, $7::int8) AS revoked) r
         LEFT JOIN LATERAL (
             SELECT o.order_id::int8 AS order_id, o.member_id::text AS member_id,
                    o.\"date\"::text AS order_date, o.\"time\"::text AS order_time,
                    o.state::text AS state, o.version::int8 AS version,
                    {LINES_JSON} AS lines
             FROM orders o
             WHERE NOT r.revoked AND o.bran_id = $1::text
               AND o.state IN ('placed', 'paid', 'accepted', 'baking', 'ready')
               AND o.state = ANY($2::text[]) AND o.order_id > $3::int8
             ORDER BY o.order_id
             LIMIT $4::int4 + 1
         ) q ON true
         ORDER BY q.order_id"
    );
    let rows = db.query(
        &sql,
        &[
            text(branch),
            state_names(states),
            ParameterValue::Int64(cursor),
            ParameterValue::Int32(limit),
            text(&token.revocation_id),
            text(&token.member_id),
            ParameterValue::Int64(token.issued_at as i64),
        ],
    )?;
    let first = single_row(&rows, "order queue")?;
    if column::<bool>(&first, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let marker = column(&first, "marker")?;
    let orders = rows
        .rows()
        .filter(|row| nullable::<i64>(row, "order_id").is_some())
        .map(|row| {
            let state = state(&row)?;
            Ok(QueuedOrder {
                order_id: column(&row, "order_id")?,
                member_id: column(&row, "member_id")?,
                date: nullable(&row, "order_date"),
                time: nullable(&row, "order_time"),
                state,
                version: column(&row, "version")?,
                lines: json(&row, "lines")?.unwrap_or_default(),
                next: crate::order::lifecycle::next_states(state, Actor::Staff),
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(Authorized::Granted(Queue { marker, orders }))
}

/// A requested move of one order.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    /// The order.
    pub order_id: i32,
    /// Where to.
    pub to: State,
    /// The states it may be moved from (`lifecycle::sources`).
    pub from: &'a [State],
    /// The version the asker saw (`If-Match`).
    pub version: i64,
    /// As whom: the order's member, or staff of its branch.
    pub by: Actor,
    /// Why, if said.
    pub reason: Option<&'a str>,
}

/// What the transition statement found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// No order has this id.
    NoSuchOrder,
    /// The order exists but the asker may not act on it as they asked
    /// (not their order, or not their branch).
    NotPermitted,
    /// Moved; the order's new version.
    Done {
        /// The version after the move.
        version: i64,
    },
    /// Not moved: the order's state and version when the statement began.
    Unmoved {
        /// Its state.
        state: State,
        /// Its version.
        version: i64,
    },
}

/// Moves an order if the token is not revoked, the asker may act on it, its
/// version is `version` and its state one of `from`: in ONE statement that
/// sets the state, bumps the version, and writes a history row and an
/// `order.<state>` outbox event. Concurrent moves of one version queue on the
/// row; the first wins and the rest find a newer version and write nothing.
pub fn transition(
    db: &Db,
    step: &Move<'_>,
    token: &VerifiedToken,
) -> Result<Authorized<Moved>, DbError> {
    let rows = db.query(
        &TRANSITION,
        &[
            ParameterValue::Int32(step.order_id),
            text(step.to.as_str()),
            state_names(step.from),
            ParameterValue::Int64(step.version),
            text(&token.member_id),
            text(step.by.as_str()),
            optional_text(step.reason),
            ParameterValue::Boolean(step.by == Actor::Member),
            ParameterValue::Boolean(token.roles.admin),
            text_array(&token.roles.staff),
            text(&token.revocation_id),
            ParameterValue::Int64(token.issued_at as i64),
        ],
    )?;
    let row = single_row(&rows, "order transition")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let found = if !column::<bool>(&row, "found")? {
        Moved::NoSuchOrder
    } else if !column::<bool>(&row, "permitted")? {
        Moved::NotPermitted
    } else if let Some(version) = nullable::<i64>(&row, "new_version") {
        Moved::Done { version }
    } else {
        Moved::Unmoved {
            state: state(&row)?,
            version: column(&row, "version")?,
        }
    };
    Ok(Authorized::Granted(found))
}

/// The one transition statement. Parameters: $1 order, $2 new state, $3 the
/// states it may leave, $4 the expected version, $5 the asker, $6 as what
/// (`member`/`staff`), $7 the reason, $8 whether acting as the order's
/// member (else as staff: $9 admin, $10 staff branches), $11/$12 the
/// token's revocation id and `iat`.
static TRANSITION: LazyLock<String> = LazyLock::new(|| {
    let recorded = recorded(
        "m.from_state",
        "$2::text",
        "$5::text",
        "$6::text",
        "$7::text",
    );
    format!(
        r#"
WITH revoked AS (
    SELECT token_revoked($11::text, $5::text, $12::int8) AS yes
),
found AS (
    SELECT o.order_id, o.bran_id, o.member_id, coalesce(o.state, 'completed') AS state,
           o.version
    FROM orders o
    WHERE o.order_id = $1::int4
),
permitted AS (
    SELECT f.*
    FROM found f, revoked r
    WHERE NOT r.yes
      AND CASE WHEN $8::bool THEN f.member_id = $5::text
               ELSE $9::bool OR f.bran_id = ANY($10::text[]) END
),
moved AS (
    UPDATE orders o SET state = $2::text, version = o.version + 1
    FROM permitted p
    WHERE o.order_id = p.order_id AND o.version = $4::int8
      AND coalesce(o.state, 'completed') = ANY($3::text[])
    RETURNING o.order_id, o.bran_id, o.member_id, o.version, p.state AS from_state
),
{recorded}
SELECT r.yes AS revoked,
       EXISTS (SELECT 1 FROM found) AS found,
       EXISTS (SELECT 1 FROM permitted) AS permitted,
       (SELECT f.state::text FROM found f) AS state,
       (SELECT f.version::int8 FROM found f) AS version,
       (SELECT m.version::int8 FROM moved m) AS new_version
FROM revoked r
"#
    )
});

/// The two CTEs every move of an order ends with, so that none is made
/// without them: its history row and its `order.<to>` outbox event, one per
/// row of a `moved` CTE (`order_id`, `bran_id`, `member_id`, `version`). The
/// arguments are SQL expressions of the statement, never input.
pub(crate) fn recorded(from: &str, to: &str, actor: &str, role: &str, reason: &str) -> String {
    format!(
        "history_row AS (
             INSERT INTO order_history (order_id, bran_id, version, from_state, to_state, actor,
                                        actor_role, reason)
             SELECT m.order_id, m.bran_id, m.version, {from}, {to}, {actor}, {role}, {reason}
             FROM moved m
         ),
         event_row AS (
             INSERT INTO outbox (event_type, aggregate_id, payload)
             SELECT 'order.' || {to}, m.order_id::text,
                    jsonb_build_object('order_id', m.order_id, 'bran_id', m.bran_id,
                                       'member_id', m.member_id, 'from', {from}, 'to', {to},
                                       'version', m.version, 'by', {actor}, 'role', {role},
                                       'reason', {reason})
             FROM moved m
         )"
    )
}

/// The `state` column as a [`State`] (NULL: a legacy order, completed).
pub(super) fn state(row: &Row<'_>) -> Result<State, DbError> {
    let raw = nullable::<String>(row, "state");
    State::from_column(raw.as_deref())
        .ok_or_else(|| DbError::Failed(format!("unknown order state {raw:?}")))
}
