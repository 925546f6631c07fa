//! SQL of the order service: `branch`, `orders`, `order_detail`, `outbox` and
//! `order_idempotency`, plus direct reads of the menu tables (the order role
//! may read them; service chaining across SpinApps does not work).
//!
//! [`lifecycle`] holds the SQL of the order's life after placing.
//!
//! Placing an order is ONE statement of data-modifying CTEs, never a
//! `BEGIN`/`COMMIT` across host calls (Spin reuses pooled connections without
//! a `ROLLBACK`): the order, its lines, its outbox event and its idempotency
//! row commit together or not at all.

pub mod lifecycle;

use super::price;
use crate::auth::Authorized;
use crate::db::{Db, DbError, column, nullable, optional_text, single_row, text, text_array};
use crate::idempotency::{Answered, Claim, Fingerprint, KeyTaken, Stored};
use crate::order::{Branch, HistoryLine, NewOrder, PlacedOrder};
use crate::token::VerifiedToken;
use spin_sdk::pg4::{ParameterValue, Row};

/// The branches, by id.
pub fn branches(db: &Db) -> Result<Vec<Branch>, DbError> {
    let rows = db.query(
        "SELECT bran_id, coalesce(bran_nm, '') AS bran_nm FROM branch ORDER BY bran_id COLLATE \"C\"",
        &[],
    )?;
    rows.rows()
        .map(|row| {
            Ok(Branch {
                bran_id: column(&row, "bran_id")?,
                bran_nm: column(&row, "bran_nm")?,
            })
        })
        .collect()
}

/// The token's member's order lines, newest order first, lines in the order
/// placed, unless the token is revoked: one statement asks both.
pub fn history(db: &Db, token: &VerifiedToken) -> Result<Authorized<Vec<HistoryLine>>, DbError> {
    // Without a line (a revoked token, or no orders) the join leaves one row
    // of NULLs that carries `revoked`.
    let rows = db.query(
        "SELECT r.revoked, h.order_id, h.bran_id, h.pizza_id, h.quantity,
                h.\"date\", h.\"time\", h.unit_price, h.state
         FROM (SELECT token_revoked($1::text, $2::text, $3::int8) AS revoked) r
         LEFT JOIN LATERAL (
             SELECT o.order_id::int8 AS order_id, o.bran_id, d.pizza_id, d.quantity,
                    o.\"date\", o.\"time\", d.unit_price::text AS unit_price,
                    d.order_detail_id, o.state::text AS state
             FROM orders o
             JOIN order_detail d ON d.order_id = o.order_id
             WHERE o.member_id = $2::text AND NOT r.revoked
         ) h ON true
         ORDER BY h.order_id DESC, h.order_detail_id",
        &super::revocation_params(token),
    )?;
    if column::<bool>(&single_row(&rows, "order history")?, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let lines = rows
        .rows()
        .filter(|row| nullable::<i64>(row, "order_id").is_some())
        .map(|row| {
            Ok(HistoryLine {
                order_id: column(&row, "order_id")?,
                bran_id: nullable(&row, "bran_id"),
                pizza_id: nullable(&row, "pizza_id"),
                quantity: nullable(&row, "quantity"),
                date: nullable(&row, "date"),
                time: nullable(&row, "time"),
                unit_price: nullable::<String>(&row, "unit_price")
                    .map(|p| price(&p))
                    .transpose()?,
                state: lifecycle::state(&row)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(Authorized::Granted(lines))
}

/// The window of the member order limit (`member_order_limit` orders per
/// window, counted in the placement statement; parallel requests may pass it
/// by a few), as PostgreSQL interval text.
pub const MEMBER_ORDER_WINDOW: &str = "10 minutes";

/// What the placement statement did.
#[derive(Debug)]
pub enum Placement<'c> {
    /// The order was created.
    Created {
        /// Its id and total.
        order: PlacedOrder,
        /// The zone `date`/`time` were written in (the fallback when the
        /// configured one is unknown to PostgreSQL).
        zone: String,
    },
    /// `branchId` names no branch; nothing was written.
    UnknownBranch,
    /// The line at this 0-based index names no pizza; nothing was written.
    UnknownLine(usize),
    /// The branch is closed (an admin closed it); nothing was written.
    BranchClosed,
    /// The line at this 0-based index is sold out; nothing was written.
    SoldOut(usize),
    /// The member placed their limit of orders within [`MEMBER_ORDER_WINDOW`]
    /// already; nothing was written.
    OverLimit {
        /// Seconds until the oldest of those leaves the window.
        retry_after: u64,
    },
    /// An answer is committed under this member's idempotency key; nothing
    /// was written.
    Answered(Answered<'c, PlacedOrder>),
    /// Another request already holds this member's idempotency key; nothing
    /// was written. Its answer is read with [`stored_placement`].
    KeyTaken(KeyTaken<'c>),
    /// A checkout found the cart changed (or checked out) since it was read;
    /// nothing was written.
    CartChanged,
}

/// What turns a placement into a checkout: the cart it empties and the
/// payment it starts (state `payment_pending`, attempt 1).
#[derive(Debug, Clone, Copy)]
pub struct Checkout<'a> {
    /// The cart's version when its lines were read.
    pub cart_version: i64,
    /// The payment method token.
    pub method: &'a str,
    /// ISO 4217, lower case.
    pub currency: &'a str,
}

/// Checks the token, looks for a stored answer, validates, resolves and
/// places an order, all in one statement.
///
/// A revoked token (logged out, or issued before its member's cutoff) writes
/// nothing and is [`Authorized::Revoked`]. With an idempotency key whose answer is
/// committed, nothing is written either and that answer is returned
/// ([`Placement::Answered`]), before any check of the order itself, as a
/// replay must get the first answer. All lines resolve to a pizza and its price in one join. Only if the branch
/// and every line exist is an order id drawn; with an idempotency key the
/// `order_idempotency` row is then claimed with `ON CONFLICT DO NOTHING`, and
/// the order (state `placed`, version 1), its details (each with its unit
/// price), its first history row and the `order.placed` outbox event follow only if the claim succeeded. A concurrent duplicate
/// waits on the winner's uncommitted claim and then inserts nothing.
/// `date`/`time` are shop time in `zone`. A zone PostgreSQL does not know
/// fails the statement (so nothing is written); it is then placed again in
/// `fallback_zone` and the misconfiguration logged, rather than refusing every
/// order. A member who placed `order_limit` orders within [`MEMBER_ORDER_WINDOW`]
/// places none (0: no limit). (Checking the zone up front against `pg_timezone_names` would read
/// the whole time zone database on every order.)
#[allow(clippy::too_many_arguments)]
pub fn place<'c>(
    db: &Db,
    token: &VerifiedToken,
    order: &NewOrder,
    zone: &str,
    fallback_zone: &str,
    order_limit: i32,
    claim: Option<&'c Claim>,
    checkout: Option<Checkout<'_>>,
) -> Result<Authorized<Placement<'c>>, DbError> {
    let names: Vec<&str> = order.lines.iter().map(|l| l.name.as_str()).collect();
    let sizes: Vec<&str> = order.lines.iter().map(|l| l.size.as_str()).collect();
    let quantities: Vec<Option<i32>> = order.lines.iter().map(|l| Some(l.quantity)).collect();
    let params = |zone: &str| {
        [
            text(&token.member_id),
            text(&order.branch_id),
            text_array(&names),
            text_array(&sizes),
            ParameterValue::ArrayInt32(quantities.clone()),
            text(zone),
            optional_text(claim.map(|c| c.key.as_str())),
            optional_text(claim.map(|c| c.fingerprint.as_str())),
            ParameterValue::Int32(order_limit),
            text(MEMBER_ORDER_WINDOW),
            text(&token.revocation_id),
            ParameterValue::Int64(token.issued_at as i64),
            checkout.map_or(ParameterValue::DbNull, |c| {
                ParameterValue::Int64(c.cart_version)
            }),
            optional_text(checkout.map(|c| c.method)),
            optional_text(checkout.map(|c| c.currency)),
        ]
    };
    let (rows, zone) = match db.query(PLACE_ORDER, &params(zone)) {
        Err(e) if zone != fallback_zone && is_unknown_time_zone(&e) => (
            db.query(PLACE_ORDER, &params(fallback_zone))?,
            fallback_zone,
        ),
        result => (result?, zone),
    };
    let row = single_row(&rows, "order placement")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(placement(&row, zone, claim)?))
}

/// What the placement statement's row says was done.
fn placement<'c>(
    row: &Row<'_>,
    zone: &str,
    claim: Option<&'c Claim>,
) -> Result<Placement<'c>, DbError> {
    if let Some(claim) = claim
        && nullable::<String>(row, "earlier_hash").is_some()
    {
        return Ok(Placement::Answered(claim.answered(earlier_answer(row)?)));
    }
    if !column::<bool>(row, "cart_current")? {
        return Ok(Placement::CartChanged);
    }
    if !column::<bool>(row, "branch_found")? {
        return Ok(Placement::UnknownBranch);
    }
    if let Some(line) = nullable::<i64>(row, "missing_line") {
        return Ok(Placement::UnknownLine((line - 1) as usize));
    }
    if !column::<bool>(row, "branch_open")? {
        return Ok(Placement::BranchClosed);
    }
    if let Some(line) = nullable::<i64>(row, "sold_out_line") {
        return Ok(Placement::SoldOut((line - 1) as usize));
    }
    if column::<bool>(row, "over_limit")? {
        let retry_after = nullable::<i64>(row, "retry_after").unwrap_or(1).max(1) as u64;
        return Ok(Placement::OverLimit { retry_after });
    }
    match (nullable::<i64>(row, "order_id"), claim) {
        (Some(order_id), _) => Ok(Placement::Created {
            order: PlacedOrder {
                order_id,
                total: price(&column::<String>(row, "total")?)?,
            },
            zone: zone.to_owned(),
        }),
        (None, Some(claim)) => Ok(Placement::KeyTaken(claim.taken())),
        (None, None) => Err(DbError::Failed(
            "order placement without a key inserted nothing".into(),
        )),
    }
}

/// The one statement that places an order. Parameters: $1 member, $2 branch,
/// $3/$4/$5 line names, sizes, quantities, $6 zone,
/// $7 idempotency key (NULL for none), $8 request hash, $9/$10 the member's
/// order limit and its window, $11/$12 the token's revocation id and `iat`;
/// for a checkout (else NULL) $13 the cart version it empties, $14 the
/// payment method and $15 the currency. The stored
/// response keeps only what a replay rebuilds the 201 from: the order id and
/// total.
const PLACE_ORDER: &str = r#"
WITH zone AS (
    SELECT $6::text AS name
),
revoked AS (
    SELECT token_revoked($11::text, $1::text, $12::int8) AS yes
),
earlier AS (
    SELECT e.request_hash, e.response
    FROM order_idempotency e
    WHERE $7::text IS NOT NULL AND e.member_id = $1::text AND e.idem_key = $7::text
),
input AS (
    SELECT l.n, l.name, l.size, l.qty
    FROM unnest($3::text[], $4::text[], $5::int4[]) WITH ORDINALITY AS l (name, size, qty, n)
),
resolved AS (
    SELECT i.n, i.qty, m.pizza_id, m.unit_price, m.sold_out
    FROM input i
    LEFT JOIN LATERAL (
        SELECT p.pizza_id, round(p.price::numeric, 2) AS unit_price, p.sold_out
        FROM pizza p
        JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
        WHERE t.pizza_nm = i.name AND p.size = i.size AND p.price IS NOT NULL
        ORDER BY p.pizza_id COLLATE "C"
        LIMIT 1
    ) m ON true
),
recent AS (
    SELECT count(*) AS placed, min(o.created_at) AS oldest
    FROM orders o
    WHERE $9::int4 > 0 AND o.member_id = $1::text AND o.created_at > now() - $10::text::interval
),
branch_row AS (
    SELECT b.bran_id, b.is_open FROM branch b WHERE b.bran_id = $2::text
),
cart_row AS (
    -- Checkout only: the cart at the version read, locked, so that a concurrent
    -- checkout or change of it waits and then finds another version.
    SELECT c.member_id FROM cart c
    WHERE $13::int8 IS NOT NULL AND c.member_id = $1::text AND c.version = $13::int8
    FOR UPDATE
),
verdict AS (
    SELECT (SELECT r.yes FROM revoked r) AS revoked,
           EXISTS (SELECT 1 FROM earlier) AS answered,
           (SELECT b.bran_id FROM branch_row b) AS bran_id,
           (SELECT min(r.n) FROM resolved r WHERE r.pizza_id IS NULL) AS missing_line,
           (SELECT min(r.n) FROM resolved r WHERE r.sold_out) AS sold_out_line,
           coalesce((SELECT b.is_open FROM branch_row b), false) AS branch_open,
           (SELECT sum(r.qty * r.unit_price) FROM resolved r) AS total,
           (SELECT $9::int4 > 0 AND c.placed >= $9::int4 FROM recent c) AS over_limit,
           (SELECT ceil(extract(epoch FROM c.oldest + $10::text::interval - now()))::int8
            FROM recent c) AS retry_after,
           ($13::int8 IS NULL OR EXISTS (SELECT 1 FROM cart_row)) AS cart_current
),
new_order AS (
    SELECT nextval(pg_get_serial_sequence('orders', 'order_id')) AS order_id,
           v.bran_id, v.total, now() AT TIME ZONE z.name AS local_time
    FROM verdict v, zone z
    WHERE NOT v.revoked AND NOT v.answered
      AND v.bran_id IS NOT NULL AND v.missing_line IS NULL AND NOT v.over_limit
      AND v.branch_open AND v.sold_out_line IS NULL AND v.cart_current
),
claim AS (
    INSERT INTO order_idempotency (member_id, idem_key, request_hash, response)
    SELECT $1::text, $7::text, $8::text,
           jsonb_build_object('order_id', n.order_id, 'total', n.total)
    FROM new_order n
    WHERE $7::text IS NOT NULL
    ON CONFLICT (member_id, idem_key) DO NOTHING
    RETURNING idem_key
),
placed AS (
    SELECT n.order_id, n.bran_id, n.total,
           to_char(n.local_time, 'YYYY-MM-DD') AS order_date,
           to_char(n.local_time, 'HH24:MI:SS') AS order_time
    FROM new_order n
    WHERE $7::text IS NULL OR EXISTS (SELECT 1 FROM claim)
),
order_row AS (
    INSERT INTO orders (order_id, member_id, bran_id, "date", "time", state, version)
    SELECT p.order_id, $1::text, p.bran_id, p.order_date, p.order_time,
           CASE WHEN $14::text IS NULL THEN 'placed' ELSE 'payment_pending' END,
           CASE WHEN $14::text IS NULL THEN 1 ELSE 2 END
    FROM placed p
    RETURNING order_id
),
history_row AS (
    INSERT INTO order_history (order_id, bran_id, version, from_state, to_state, actor,
                               actor_role)
    SELECT p.order_id, p.bran_id, 1, NULL, 'placed', $1::text, 'member'
    FROM placed p
    UNION ALL
    SELECT p.order_id, p.bran_id, 2, 'placed', 'payment_pending', 'checkout', 'system'
    FROM placed p
    WHERE $14::text IS NOT NULL
),
payment_row AS (
    -- Attempt 1's key is the checkout's (order_idempotency); request_key holds
    -- only the keys of `POST …/pay/`, so reusing this one there starts an attempt.
    INSERT INTO order_payment (order_id, attempt, method, amount_minor, currency)
    SELECT p.order_id, 1, $14::text, round(p.total * 100)::int8, $15::text
    FROM placed p
    WHERE $14::text IS NOT NULL
),
cart_emptied AS (
    UPDATE cart c SET lines = '[]'::jsonb, version = c.version + 1, updated_at = now()
    FROM placed p
    WHERE $13::int8 IS NOT NULL AND c.member_id = $1::text
),
detail_rows AS (
    INSERT INTO order_detail (order_id, pizza_id, quantity, unit_price)
    SELECT p.order_id, r.pizza_id, r.qty, r.unit_price
    FROM placed p CROSS JOIN resolved r
    ORDER BY r.n
),
event_row AS (
    INSERT INTO outbox (event_type, aggregate_id, payload)
    SELECT 'order.placed', p.order_id::text,
           jsonb_build_object(
               'order_id', p.order_id,
               'state', CASE WHEN $14::text IS NULL THEN 'placed' ELSE 'payment_pending' END,
               'version', CASE WHEN $14::text IS NULL THEN 1 ELSE 2 END,
               'payment', CASE WHEN $14::text IS NOT NULL
                               THEN jsonb_build_object('attempt', 1, 'method', $14::text) END,
               'member_id', $1::text,
               'bran_id', p.bran_id,
               'date', p.order_date,
               'time', p.order_time,
               'total', p.total,
               'lines', (SELECT jsonb_agg(jsonb_build_object(
                                  'pizza_id', r.pizza_id,
                                  'quantity', r.qty,
                                  'unit_price', r.unit_price) ORDER BY r.n)
                         FROM resolved r))
    FROM placed p
)
SELECT v.revoked,
       (SELECT e.request_hash FROM earlier e) AS earlier_hash,
       (SELECT (e.response ->> 'order_id')::int8 FROM earlier e) AS earlier_order_id,
       (SELECT e.response ->> 'total' FROM earlier e) AS earlier_total,
       v.bran_id IS NOT NULL AS branch_found,
       v.missing_line::int8 AS missing_line,
       v.branch_open,
       v.sold_out_line::int8 AS sold_out_line,
       v.over_limit,
       v.retry_after,
       v.cart_current,
       (SELECT o.order_id::int8 FROM order_row o) AS order_id,
       v.total::text AS total
FROM verdict v
"#;

/// Whether a failure is PostgreSQL refusing a time zone name
/// (`time zone "..." not recognized`, with or without a SQLSTATE).
fn is_unknown_time_zone(e: &DbError) -> bool {
    let text = e.to_string();
    text.contains("time zone") && text.contains("not recognized")
}

/// The placement stored under a member's key, if one is committed.
pub fn stored_placement(
    db: &Db,
    member_id: &str,
    claim: &Claim,
) -> Result<Option<Stored<PlacedOrder>>, DbError> {
    let rows = db.query(
        "SELECT request_hash AS earlier_hash,
                (response ->> 'order_id')::int8 AS earlier_order_id,
                response ->> 'total' AS earlier_total
         FROM order_idempotency
         WHERE member_id = $1 AND idem_key = $2",
        &[text(member_id), text(claim.key.as_str())],
    )?;
    rows.rows()
        .next()
        .map(|row| earlier_answer(&row))
        .transpose()
}

/// The answer stored under a key, from the `earlier_*` columns of a row.
fn earlier_answer(row: &Row<'_>) -> Result<Stored<PlacedOrder>, DbError> {
    Ok(Stored {
        fingerprint: Fingerprint::from_stored(column(row, "earlier_hash")?),
        answer: PlacedOrder {
            order_id: column(row, "earlier_order_id")?,
            total: price(&column::<String>(row, "earlier_total")?)?,
        },
    })
}
