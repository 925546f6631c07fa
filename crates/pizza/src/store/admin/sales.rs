//! The sales figures of the web console's dashboard, over the orders and
//! their lines (role `pizza_admin_api`, migration 0017), in one statement:
//! totals, revenue by day and by hour of day, pizzas, sizes, categories and
//! branches. A line's revenue is its quantity times the price captured when
//! it was ordered (`unit_price`), or the menu's price for lines older than
//! that column, summed in whole cents (integer sums: a year's 48,620 lines
//! in about a tenth of a second). Orders that brought no money (cancelled, refunded, waiting
//! for or refused payment) are left out; legacy orders (no state) count.

use super::{REVOKED, read_json};
use crate::auth::Authorized;
use crate::db::{Db, DbError, optional_text};
use crate::sales::SalesQuery;
use crate::token::VerifiedToken;
use serde_json::Value;

/// The figures, as the API answers them: `{from, to, branch, orders, revenue,
/// average_order_value, pizzas_sold, by_day, by_hour, pizzas, sizes,
/// categories, branches}`; `from`/`to` are the first and last days sold
/// when not asked.
pub fn sales(db: &Db, token: &VerifiedToken, q: &SalesQuery) -> Result<Authorized<Value>, DbError> {
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         sold AS MATERIALIZED (
             SELECT o.order_id, o.bran_id, o.date,
                    CASE WHEN o.time ~ '^[0-9]{{2}}:' THEN substr(o.time, 1, 2)::int END AS hour,
                    d.pizza_id, d.quantity,
                    (d.quantity * round(coalesce(d.unit_price, p.price::numeric) * 100))::int8 AS cents
             FROM revoked r
             JOIN orders o ON NOT r.yes
             JOIN order_detail d ON d.order_id = o.order_id
             LEFT JOIN pizza p ON p.pizza_id = d.pizza_id
             WHERE ($4::text IS NULL OR o.date >= $4::text)
               AND ($5::text IS NULL OR o.date <= $5::text)
               AND ($6::text IS NULL OR o.bran_id = $6::text)
               AND (o.state IS NULL OR o.state NOT IN
                    ('cancelled', 'refund_pending', 'refunded', 'payment_pending', 'payment_failed'))
         ),
         per_order AS MATERIALIZED (
             SELECT order_id, bran_id, date, hour, sum(cents) AS cents
             FROM sold GROUP BY order_id, bran_id, date, hour
         ),
         per_pizza AS MATERIALIZED (
             SELECT s.quantity, s.cents, p.size, t.pizza_type_id, t.pizza_nm, t.pizza_categ
             FROM (SELECT pizza_id, sum(quantity) AS quantity, sum(cents) AS cents
                   FROM sold GROUP BY pizza_id) s
             JOIN pizza p ON p.pizza_id = s.pizza_id
             JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
         ),
         totals AS (
             SELECT count(*) AS orders, coalesce(sum(cents), 0) AS cents,
                    min(date) AS first, max(date) AS last
             FROM per_order
         )
         SELECT r.yes AS revoked, json_build_object(
             'from', coalesce($4::text, t.first), 'to', coalesce($5::text, t.last),
             'branch', $6::text,
             'orders', t.orders, 'revenue', round(t.cents / 100.0, 2),
             'average_order_value',
                 CASE WHEN t.orders > 0 THEN round(t.cents / 100.0 / t.orders, 2) ELSE 0 END,
             'pizzas_sold', (SELECT coalesce(sum(quantity), 0) FROM sold),
             'by_day', (SELECT coalesce(json_agg(x ORDER BY x.date), '[]') FROM (
                 SELECT date, count(*) AS orders, round(sum(cents) / 100.0, 2) AS revenue
                 FROM per_order GROUP BY date) x),
             'by_hour', (SELECT coalesce(json_agg(x ORDER BY x.hour), '[]') FROM (
                 SELECT hour, count(*) AS orders, round(sum(cents) / 100.0, 2) AS revenue
                 FROM per_order WHERE hour IS NOT NULL GROUP BY hour) x),
             'pizzas', (SELECT coalesce(json_agg(x ORDER BY x.revenue DESC, x.pizza_type_id), '[]') FROM (
                 SELECT pizza_type_id, pizza_nm AS name, pizza_categ AS category,
                        sum(quantity) AS quantity, round(sum(cents) / 100.0, 2) AS revenue
                 FROM per_pizza GROUP BY pizza_type_id, pizza_nm, pizza_categ) x),
             'sizes', (SELECT coalesce(json_agg(x ORDER BY array_position(ARRAY['S', 'M', 'L', 'XL', 'XXL'], x.size::text), x.size), '[]') FROM (
                 SELECT size, sum(quantity) AS quantity, round(sum(cents) / 100.0, 2) AS revenue
                 FROM per_pizza GROUP BY size) x),
             'categories', (SELECT coalesce(json_agg(x ORDER BY x.revenue DESC, x.category), '[]') FROM (
                 SELECT pizza_categ AS category, sum(quantity) AS quantity,
                        round(sum(cents) / 100.0, 2) AS revenue
                 FROM per_pizza GROUP BY pizza_categ) x),
             'branches', (SELECT coalesce(json_agg(x ORDER BY x.branch_id), '[]') FROM (
                 SELECT s.bran_id AS branch_id, b.bran_nm AS name,
                        count(*) AS orders, round(sum(s.cents) / 100.0, 2) AS revenue
                 FROM per_order s LEFT JOIN branch b ON b.bran_id = s.bran_id
                 GROUP BY s.bran_id, b.bran_nm) x)
         )::text AS body
         FROM revoked r, totals t"
    );
    read_json(
        db,
        token,
        &sql,
        vec![
            optional_text(q.from.as_deref()),
            optional_text(q.to.as_deref()),
            optional_text(q.branch.as_deref()),
        ],
        "sales",
    )
}
