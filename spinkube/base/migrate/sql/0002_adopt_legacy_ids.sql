-- Adopt a legacy database whose order ids have no default.
-- The Django migrations (and table_origin.sql) created orders.order_id and
-- order_detail.order_detail_id without any default, while the services'
-- models expect DB-generated ids. Give each such column a sequence that starts
-- after the highest id in use. The column type is kept: an integer column gets
-- nextval(), a varchar one (Django's 0001_initial) gets nextval()::text.

DO $$
DECLARE
    target record;
    seq    text;
    next_id bigint;
BEGIN
    FOR target IN
        SELECT c.table_name, c.column_name, c.data_type
        FROM information_schema.columns c
        WHERE c.table_schema = current_schema()
          AND (c.table_name, c.column_name) IN (('orders', 'order_id'), ('order_detail', 'order_detail_id'))
          AND c.column_default IS NULL
          AND c.is_identity = 'NO'
    LOOP
        seq := target.table_name || '_' || target.column_name || '_seq';
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.%I', seq, target.table_name, target.column_name);
        IF target.data_type IN ('integer', 'bigint', 'smallint') THEN
            EXECUTE format('SELECT coalesce(max(%I), 0) + 1 FROM %I', target.column_name, target.table_name)
                INTO next_id;
            EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT nextval(%L)',
                           target.table_name, target.column_name, seq);
        ELSE
            EXECUTE format($q$SELECT coalesce(max(%I::bigint), 0) + 1 FROM %I WHERE %I ~ '^[0-9]{1,18}$'$q$,
                           target.column_name, target.table_name, target.column_name)
                INTO next_id;
            EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT nextval(%L)::text',
                           target.table_name, target.column_name, seq);
        END IF;
        PERFORM setval(seq, next_id, false);
    END LOOP;
END
$$;
