-- Least-privilege roles, one per service, following the table ownership of the
-- Django services (login: member; menu: the catalogue; order: branches, orders and
-- their lines). Roles own nothing and cannot run DDL; each one writes
-- only its own service's tables. They are created NOLOGIN: the deployment gives
-- each a password (and LOGIN) from its own secret, never from this file.

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['pizza_login', 'pizza_menu', 'pizza_order'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', role_name);
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), role_name);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM %I', current_schema(), role_name);
    END LOOP;
END
$$;

-- No one but the migrator creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- login owns member and its own state.
GRANT SELECT, INSERT, UPDATE ON member TO pizza_login;
GRANT SELECT, INSERT, UPDATE, DELETE ON revoked_token, login_throttle TO pizza_login;

-- menu owns the catalogue and only reads it.
GRANT SELECT ON pizza_types, pizza TO pizza_menu;

-- order owns branches, orders and their lines, and reads the catalogue directly
-- (service chaining across SpinApps does not work under selective deployment)
-- and the revocation list (a revoked token is refused everywhere).
GRANT SELECT ON branch TO pizza_order;
GRANT SELECT, INSERT ON orders, order_detail, outbox TO pizza_order;
GRANT SELECT, INSERT, UPDATE ON order_idempotency TO pizza_order;
GRANT SELECT ON pizza_types, pizza, revoked_token TO pizza_order;

DO $$
DECLARE
    seq text;
BEGIN
    FOR seq IN
        SELECT pg_get_serial_sequence(t, c)
        FROM (VALUES ('orders', 'order_id'), ('order_detail', 'order_detail_id')) AS v (t, c)
        WHERE pg_get_serial_sequence(t, c) IS NOT NULL
    LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO pizza_order', seq);
    END LOOP;
END
$$;
