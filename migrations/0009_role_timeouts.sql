-- Bounds for every statement the services run, as settings of their roles so that
-- they hold on every connection, also after Spin's pool resets a reused one
-- (its reset restores the role's settings). Spin 3.6's pool has no wait timeout:
-- a request waiting for a pooled connection is bounded only because every
-- statement holding one is.
--   lock_timeout                        1 s: a statement queued behind another
--                                       session's lock gives up (55P03 -> 503)
--   statement_timeout                   5 s: no statement runs longer (57014 -> 503)
--   idle_in_transaction_session_timeout 10 s: a transaction left open (the pool
--                                       never rolls back) is ended by the server
-- The connect timeout is the client's: `connect_timeout=5` in each role's URL.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['pizza_login', 'pizza_menu', 'pizza_order'] LOOP
        EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', role_name, '1s');
        EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', role_name, '5s');
        EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', role_name, '10s');
    END LOOP;
END
$$;
