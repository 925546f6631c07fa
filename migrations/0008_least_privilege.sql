-- Exactly the privileges each service's statements need, and no more:
-- - login rewrites a member's password on login (an upgraded hash) and nothing
--   else of a member: column-level UPDATE on member_pwd only;
-- - order claims idempotency keys with INSERT ... ON CONFLICT DO NOTHING and
--   reads them back, but never rewrites one: no UPDATE;
-- - order writes outbox events without reading them (a relay gets a role of
--   its own): no SELECT on outbox;
-- - nobody creates temporary tables in this database (PUBLIC had TEMPORARY).
REVOKE UPDATE ON member FROM pizza_login;
GRANT UPDATE (member_pwd) ON member TO pizza_login;

REVOKE UPDATE ON order_idempotency FROM pizza_order;
REVOKE SELECT ON outbox FROM pizza_order;

DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
