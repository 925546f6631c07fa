-- Each service role may hold at most one Spin pool's worth of server sessions, and
-- pooled sessions left idle are closed by the server:
--   CONNECTION LIMIT 64          Spin 3.6 keeps up to 64 pooled connections per
--                                connection string and never closes them. With one
--                                pod per service (`make up`) the limit never binds;
--                                with more, it stops one service's fleet from taking
--                                the slots of the others (their connects fail with
--                                53300, answered 503 with Retry-After). The deployment
--                                sets each role's limit from its budget (docs/deploy.md).
--   idle_session_timeout 1 min   a pooled session idle for a minute is closed by the
--                                server; Spin's pool notices on the next checkout and
--                                opens a new one, so a burst's connections come back.
--                                (PostgreSQL 14 and later; on older servers a pooler's
--                                idle timeout does this.)
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['pizza_login', 'pizza_menu', 'pizza_order'] LOOP
        EXECUTE format('ALTER ROLE %I CONNECTION LIMIT 64', role_name);
        IF current_setting('server_version_num')::int >= 140000 THEN
            EXECUTE format('ALTER ROLE %I SET idle_session_timeout = %L', role_name, '1min');
        END IF;
    END LOOP;
END
$$;
