//! SQL of the member's cart (`cart`, migration 0016): reading it with
//! today's prices, and replacing it at a version. Checkout empties it inside
//! the placement statement ([`crate::store::order::place`]).

use super::{price, revocation_params};
use crate::auth::Authorized;
use crate::cart::{CartContent, CartLine, CartView};
use crate::db::{Db, DbError, column, json, nullable, single_row, text, text_array};
use crate::token::VerifiedToken;
use spin_sdk::pg4::{ParameterValue, Row};

/// A line's pizza on today's menu (a fragment: `{name}`/`{size}` are the
/// line's columns): its id, price and whether it is sold out, or NULLs.
fn on_the_menu(name: &str, size: &str) -> String {
    format!(
        r#"LEFT JOIN LATERAL (
            SELECT p.pizza_id, round(p.price::numeric, 2) AS unit_price, p.sold_out
            FROM pizza p
            JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
            WHERE t.pizza_nm = {name} AND p.size = {size} AND p.price IS NOT NULL
            ORDER BY p.pizza_id COLLATE "C"
            LIMIT 1
        ) m ON true"#
    )
}

/// The cart's lines with today's prices as JSON text, and their total, from
/// rows `x(n, name, size, qty)` joined to [`on_the_menu`] as `m`.
const PRICED: &str = "json_agg(json_build_object(
        'name', x.name, 'size', x.size, 'quantity', x.qty, 'unit_price', m.unit_price,
        'available', m.pizza_id IS NOT NULL AND NOT m.sold_out) ORDER BY x.n)::text AS lines,
    coalesce(sum(x.qty * m.unit_price) FILTER (WHERE NOT m.sold_out), 0)::text AS total";

/// The token's member's cart (an empty one at version 0 if they have none),
/// unless the token is revoked.
pub fn cart(db: &Db, token: &VerifiedToken) -> Result<Authorized<CartView>, DbError> {
    let sql = format!(
        "SELECT r.revoked, c.bran_id::text AS bran_id,
                coalesce(c.version, 0)::int8 AS version, v.lines, v.total
         FROM (SELECT token_revoked($1::text, $2::text, $3::int8) AS revoked) r
         LEFT JOIN cart c ON c.member_id = $2::text AND NOT r.revoked
         LEFT JOIN LATERAL (
             SELECT {PRICED}
             FROM (SELECT l.n, l.line ->> 'name' AS name, l.line ->> 'size' AS size,
                          (l.line ->> 'quantity')::int4 AS qty
                   FROM jsonb_array_elements(c.lines) WITH ORDINALITY AS l (line, n)) x
             {}
         ) v ON true",
        on_the_menu("x.name", "x.size")
    );
    let rows = db.query(&sql, &revocation_params(token))?;
    let row = single_row(&rows, "cart")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(view(
        &row,
        nullable(&row, "bran_id"),
        column(&row, "version")?,
    )?))
}

fn view(row: &Row<'_>, branch_id: Option<String>, version: i64) -> Result<CartView, DbError> {
    Ok(CartView {
        branch_id,
        lines: json::<Vec<CartLine>>(row, "lines")?.unwrap_or_default(),
        total: nullable::<String>(row, "total")
            .map(|t| price(&t))
            .transpose()?
            .unwrap_or_else(|| 0.into()),
        version,
    })
}

/// What replacing a cart did.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Replaced; the cart as it is now.
    Done(CartView),
    /// `branchId` names no branch; nothing was written.
    UnknownBranch,
    /// The line at this 0-based index names no pizza; nothing was written.
    UnknownLine(usize),
    /// The cart is not at the version named; nothing was written.
    Stale {
        /// Its version.
        current: i64,
    },
}

/// Replaces the member's cart with `content` if it is at `expected` (0: no
/// cart yet), in one statement that also checks the token, the branch and
/// every line. Concurrent replacements of one version queue on the row; the
/// first wins and the others find a newer version.
pub fn save(
    db: &Db,
    token: &VerifiedToken,
    content: &CartContent,
    expected: i64,
) -> Result<Authorized<Saved>, DbError> {
    let names: Vec<&str> = content.lines.iter().map(|l| l.name.as_str()).collect();
    let sizes: Vec<&str> = content.lines.iter().map(|l| l.size.as_str()).collect();
    let quantities: Vec<Option<i32>> = content.lines.iter().map(|l| Some(l.quantity)).collect();
    let [jti, member, issued_at] = revocation_params(token);
    let sql = format!(
        "WITH input AS (
             SELECT l.n, l.name, l.size, l.qty
             FROM unnest($3::text[], $4::text[], $5::int4[]) WITH ORDINALITY AS l (name, size, qty, n)
         ),
         current AS (
             SELECT c.version FROM cart c WHERE c.member_id = $2::text
         ),
         verdict AS (
             SELECT token_revoked($1::text, $2::text, $6::int8) AS revoked,
                    EXISTS (SELECT 1 FROM branch b WHERE b.bran_id = $7::text) AS branch_found,
                    (SELECT min(x.n) FROM input x {menu} WHERE m.pizza_id IS NULL) AS missing_line
         ),
         saved AS (
             INSERT INTO cart AS c (member_id, bran_id, lines, version)
             SELECT $2::text, $7::text,
                    coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'name', i.name, 'size', i.size, 'quantity', i.qty) ORDER BY i.n)
                              FROM input i), '[]'::jsonb),
                    1
             FROM verdict v
             WHERE NOT v.revoked AND v.branch_found AND v.missing_line IS NULL
               AND ($8::int8 = 0 OR EXISTS (SELECT 1 FROM current))
             ON CONFLICT (member_id) DO UPDATE
                 SET bran_id = EXCLUDED.bran_id, lines = EXCLUDED.lines,
                     version = c.version + 1, updated_at = now()
                 WHERE c.version = $8::int8
             RETURNING c.version
         )
         SELECT v.revoked, v.branch_found, v.missing_line::int8 AS missing_line,
                (SELECT s.version::int8 FROM saved s) AS new_version,
                coalesce((SELECT cu.version::int8 FROM current cu), 0) AS current_version,
                p.lines, p.total
         FROM verdict v,
              (SELECT {PRICED} FROM input x {menu}) p",
        menu = on_the_menu("x.name", "x.size"),
    );
    let rows = db.query(
        &sql,
        &[
            jti,
            member,
            text_array(&names),
            text_array(&sizes),
            ParameterValue::ArrayInt32(quantities),
            issued_at,
            text(&content.branch_id),
            ParameterValue::Int64(expected),
        ],
    )?;
    let row = single_row(&rows, "cart save")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    if !column::<bool>(&row, "branch_found")? {
        return Ok(Authorized::Granted(Saved::UnknownBranch));
    }
    if let Some(line) = nullable::<i64>(&row, "missing_line") {
        return Ok(Authorized::Granted(Saved::UnknownLine((line - 1) as usize)));
    }
    Ok(Authorized::Granted(
        match nullable::<i64>(&row, "new_version") {
            Some(version) => Saved::Done(view(&row, Some(content.branch_id.clone()), version)?),
            None => Saved::Stale {
                current: column(&row, "current_version")?,
            },
        },
    ))
}
