-- The menu's two answers (`GET /api/menu/` and `/api/menu/types/`) as documents
-- PostgreSQL keeps up to date, so a request reads one small row instead of
-- rebuilding the catalogue, and a request whose If-None-Match matches reads only
-- the tag. Every statement that changes `pizza` or `pizza_types`, whoever runs it
-- (our seed, Django's admin during coexistence, an UPDATE by hand), rebuilds both
-- in its own transaction; standbys get them by replication like any row.
--
-- The bytes are exactly what the app's types serialise to (crates/pizza/src/menu.rs;
-- crates/e2e/tests/menu_document.rs compares them): the same rows, order, keys in
-- field order, strings escaped as serde_json does (to_json escapes the same set), and
-- prices as the shortest decimal with at least one digit after the point (`17.95`,
-- `16.0`). The tag is the quoted hex of the first 16 bytes of the body's SHA-256.

CREATE TABLE menu_document (
    name text PRIMARY KEY CHECK (name IN ('menu', 'types')),
    etag text NOT NULL,
    body text NOT NULL
);

-- A price as crates/pizza/src/menu.rs `price_number` prints it: from `round(p, 2)`
-- text, trailing zeros dropped but one kept after the point.
CREATE FUNCTION menu_price_json(price numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT regexp_replace(rtrim(round(price, 2)::text, '0'), '\.$', '.0') $$;

-- Both documents with their tags, from the catalogue as this snapshot sees it.
CREATE FUNCTION menu_documents() RETURNS TABLE (name text, etag text, body text)
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
    WHERE p.price IS NOT NULL
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

-- Rebuilds both documents. The table lock comes first: it queues concurrent
-- catalogue writers, so each builds from a snapshot that includes every earlier
-- writer's commit, and the last to commit leaves the documents of the final
-- catalogue. Readers (ACCESS SHARE) are never blocked.
CREATE FUNCTION menu_document_refresh() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    LOCK TABLE menu_document IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO menu_document (name, etag, body)
    SELECT d.name, d.etag, d.body FROM menu_documents() d
    ON CONFLICT (name) DO UPDATE SET etag = EXCLUDED.etag, body = EXCLUDED.body
    WHERE menu_document.etag <> EXCLUDED.etag;
END
$$;
REVOKE ALL ON FUNCTION menu_document_refresh() FROM PUBLIC;

CREATE FUNCTION menu_document_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM menu_document_refresh();
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION menu_document_changed() FROM PUBLIC;

CREATE TRIGGER menu_document_pizza
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pizza
    FOR EACH STATEMENT EXECUTE FUNCTION menu_document_changed();
CREATE TRIGGER menu_document_pizza_types
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pizza_types
    FOR EACH STATEMENT EXECUTE FUNCTION menu_document_changed();

SELECT menu_document_refresh();

GRANT SELECT ON menu_document TO pizza_menu;
