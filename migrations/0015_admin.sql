-- The shop owner's controls (the admin endpoints, `components/admin/*`): prices and
-- sold-out pizzas, branches that open and close, who is staff or admin, and cutting off
-- a member's live tokens. Every change is one statement that also writes an audit row
-- and an outbox event.

-- A sold-out pizza leaves the menu and is refused on order until it is back.
ALTER TABLE pizza ADD COLUMN IF NOT EXISTS sold_out boolean NOT NULL DEFAULT false;

-- A closed branch refuses orders.
ALTER TABLE branch ADD COLUMN IF NOT EXISTS is_open boolean NOT NULL DEFAULT true;

-- Tokens of a member issued before `not_before` are refused everywhere: how an admin
-- ends a member's live sessions (a demoted cook's, say) without knowing their tokens.
CREATE TABLE IF NOT EXISTS member_token_cutoff (
    member_id  varchar(100) PRIMARY KEY,
    not_before timestamptz  NOT NULL
);

-- Who changed what, from what to what.
CREATE TABLE IF NOT EXISTS admin_audit (
    audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor    varchar(100) NOT NULL,
    action   varchar(50)  NOT NULL,
    subject  varchar(200) NOT NULL,
    before   jsonb,
    after    jsonb,
    at       timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS admin_audit_subject_idx ON admin_audit (subject, audit_id);

-- Whether a token is refused: logged out (its id on the revocation list), or issued
-- (`issued_at`, Unix seconds) before its member's cutoff. Every statement that serves a
-- token asks this.
CREATE OR REPLACE FUNCTION token_revoked(jti text, member text, issued_at bigint)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = token_revoked.jti)
        OR EXISTS (SELECT 1 FROM member_token_cutoff c
                   WHERE c.member_id = token_revoked.member
                     AND to_timestamp(token_revoked.issued_at) < c.not_before)
$$;

-- Sold-out pizzas leave the menu document (and so change its ETag).
CREATE OR REPLACE FUNCTION menu_documents() RETURNS TABLE (name text, etag text, body text)
LANGUAGE sql STABLE
AS $$
WITH document (name, body) AS (
    SELECT 'menu', '[' || coalesce(string_agg(
               '{"pizza_id":' || to_json(p.pizza_id::text)::text
               || ',"pizza_type__pizza_nm":' || to_json(coalesce(t.pizza_nm, '')::text)::text
               || ',"size":' || to_json(coalesce(p.size, '')::text)::text
               || ',"price":' || menu_price_json(p.price::numeric)
               || ',"pizza_type_id":' || to_json(p.pizza_type_id::text)::text
               || ',"pizza_categ":' || to_json(coalesce(t.pizza_categ, '')::text)::text
               || '}', ','
               ORDER BY coalesce(t.pizza_categ, '') COLLATE "C", coalesce(t.pizza_nm, '') COLLATE "C",
                        CASE coalesce(p.size, '') WHEN 'S' THEN 0 WHEN 'M' THEN 1 WHEN 'L' THEN 2
                                                  WHEN 'XL' THEN 3 WHEN 'XXL' THEN 4 ELSE 5 END,
                        coalesce(p.size, '') COLLATE "C", p.pizza_id COLLATE "C"), '') || ']'
    FROM pizza p
    JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
    WHERE p.price IS NOT NULL AND NOT p.sold_out
    UNION ALL
    SELECT 'types', '[' || coalesce(string_agg(
               '{"pizza_type_id":' || to_json(t.pizza_type_id::text)::text
               || ',"pizza_nm":' || to_json(coalesce(t.pizza_nm, '')::text)::text
               || ',"pizza_categ":' || to_json(coalesce(t.pizza_categ, '')::text)::text
               || ',"pizza_img_url":' || to_json(coalesce(t.pizza_img_url, '')::text)::text
               || ',"ingredients":['
               || coalesce((SELECT string_agg(to_json(i)::text, ',' ORDER BY n)
                            FROM unnest(t.ingredients) WITH ORDINALITY AS u (i, n)
                            WHERE i IS NOT NULL), '')
               || ']}', ','
               ORDER BY t.pizza_categ COLLATE "C", t.pizza_nm COLLATE "C", t.pizza_type_id COLLATE "C"),
               '') || ']'
    FROM pizza_types t
)
SELECT d.name, '"' || encode(substr(sha256(convert_to(d.body, 'UTF8')), 1, 16), 'hex') || '"', d.body
FROM document d
$$;
SELECT menu_document_refresh();

-- The admin service's role, made like the others (0006, 0009, 0012): no login until the
-- deployment gives it one, no DDL, bounded statements, one Spin pool of connections.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pizza_admin_api') THEN
        CREATE ROLE pizza_admin_api NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pizza_admin_api', current_schema());
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM pizza_admin_api', current_schema());
    ALTER ROLE pizza_admin_api SET lock_timeout = '1s';
    ALTER ROLE pizza_admin_api SET statement_timeout = '5s';
    ALTER ROLE pizza_admin_api SET idle_in_transaction_session_timeout = '10s';
    ALTER ROLE pizza_admin_api CONNECTION LIMIT 64;
    IF current_setting('server_version_num')::int >= 140000 THEN
        ALTER ROLE pizza_admin_api SET idle_session_timeout = '1min';
    END IF;
END
$$;

-- Admin changes prices and availability, never what a pizza is; names branches and
-- opens or closes them; sets roles; cuts off tokens; and writes its audit and events.
-- It reads of a member only the id, never a password.
GRANT SELECT ON pizza, pizza_types TO pizza_admin_api;
GRANT UPDATE (price, sold_out) ON pizza TO pizza_admin_api;
GRANT SELECT, INSERT ON branch TO pizza_admin_api;
GRANT UPDATE (bran_nm, is_open) ON branch TO pizza_admin_api;
GRANT SELECT, INSERT, DELETE ON member_role TO pizza_admin_api;
GRANT SELECT (member_id) ON member TO pizza_admin_api;
GRANT SELECT, INSERT, UPDATE ON member_token_cutoff TO pizza_admin_api;
GRANT SELECT ON revoked_token TO pizza_admin_api;
GRANT INSERT ON admin_audit, outbox TO pizza_admin_api;

-- The services that check tokens read the cutoffs.
GRANT SELECT ON member_token_cutoff TO pizza_login, pizza_order;
