-- 0017: what the web console's admin pages read (README, "Web console"): the sales
-- dashboard's figures over the orders and their lines, the audit trail and every role
-- grant. Admin reads of an order only what the figures need: never who ordered.
CREATE INDEX IF NOT EXISTS orders_date_idx ON orders (date);

GRANT SELECT (order_id, bran_id, date, time, state) ON orders TO pizza_admin_api;
GRANT SELECT (order_id, pizza_id, quantity, unit_price) ON order_detail TO pizza_admin_api;
GRANT SELECT ON admin_audit TO pizza_admin_api;
