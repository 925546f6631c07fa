//! What the web console's admin pages read (role `pizza_admin_api`, migration
//! 0017): the whole catalogue with sold-out pizzas, every branch open or
//! closed, the audit trail, and every role grant. Each is one statement that
//! also checks the admin's token and builds its JSON in PostgreSQL
//! ([`super::read_selected`]).

use super::read_selected;
use crate::auth::Authorized;
use crate::db::{Db, DbError};
use crate::token::VerifiedToken;
use serde_json::Value;
use spin_sdk::pg4::ParameterValue;

/// Every pizza, sold out or not: `[{pizza_id, pizza_type_id, name, category,
/// size, price, sold_out}]`, by category, name and size.
pub fn catalogue(db: &Db, token: &VerifiedToken) -> Result<Authorized<Value>, DbError> {
    let select = "SELECT coalesce(json_agg(json_build_object(
                    'pizza_id', p.pizza_id, 'pizza_type_id', p.pizza_type_id,
                    'name', t.pizza_nm, 'category', t.pizza_categ, 'size', p.size,
                    'price', round(p.price::numeric, 2), 'sold_out', p.sold_out)
                  ORDER BY t.pizza_categ, t.pizza_nm,
                           array_position(ARRAY['S', 'M', 'L', 'XL', 'XXL'], p.size::text),
                           p.pizza_id), '[]')
         FROM pizza p JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
         WHERE NOT r.yes";
    read_selected(db, token, select, Vec::new(), "catalogue")
}

/// Every branch: `[{bran_id, bran_nm, is_open}]`, by id.
pub fn branches(db: &Db, token: &VerifiedToken) -> Result<Authorized<Value>, DbError> {
    let select = "SELECT coalesce(json_agg(json_build_object(
                    'bran_id', b.bran_id, 'bran_nm', b.bran_nm, 'is_open', b.is_open)
                  ORDER BY b.bran_id), '[]')
         FROM branch b
         WHERE NOT r.yes";
    read_selected(db, token, select, Vec::new(), "branches")
}

/// Audit entries with an id below `before` (0: from the newest), newest
/// first, at most `limit` + 1 (one more tells that a next page exists):
/// `[{audit_id, at, actor, action, subject, before, after}]`.
pub fn audit(
    db: &Db,
    token: &VerifiedToken,
    before: i64,
    limit: i32,
) -> Result<Authorized<Value>, DbError> {
    let select = "SELECT coalesce(json_agg(a ORDER BY a.audit_id DESC), '[]')
         FROM (SELECT audit_id,
                      to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at,
                      actor, action, subject, before, after
               FROM admin_audit
               WHERE NOT r.yes AND ($4::int8 = 0 OR audit_id < $4::int8)
               ORDER BY audit_id DESC
               LIMIT $5::int4 + 1) a";
    let page = vec![ParameterValue::Int64(before), ParameterValue::Int32(limit)];
    read_selected(db, token, select, page, "audit")
}

/// Every role grant: `[{member_id, role, branch_id}]` (`branch_id` null for
/// admins), by role, branch and member.
pub fn grants(db: &Db, token: &VerifiedToken) -> Result<Authorized<Value>, DbError> {
    let select = "SELECT coalesce(json_agg(json_build_object(
                    'member_id', g.member_id, 'role', g.role,
                    'branch_id', nullif(g.bran_id, ''))
                  ORDER BY g.role, g.bran_id, g.member_id), '[]')
         FROM member_role g
         WHERE NOT r.yes";
    read_selected(db, token, select, Vec::new(), "role grants")
}
