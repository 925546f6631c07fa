-- Additions of the order service: prices at order time, creation instants,
-- idempotent order placement and an outbox of domain events.

-- The unit price each line was sold at (NULL on lines placed before this column existed).
ALTER TABLE order_detail ADD COLUMN IF NOT EXISTS unit_price numeric(10, 2);

-- When the order was placed; legacy rows keep NULL rather than a made-up instant.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS created_at timestamptz;
ALTER TABLE orders ALTER COLUMN created_at SET DEFAULT now();

-- myorder reads one member's orders, newest first.
CREATE INDEX IF NOT EXISTS orders_member_id_idx ON orders (member_id, order_id DESC);

-- One row per (member, Idempotency-Key): the first request's fingerprint and answer.
CREATE TABLE IF NOT EXISTS order_idempotency (
    member_id    varchar(100) NOT NULL,
    idem_key     varchar(255) NOT NULL,
    request_hash varchar(64)  NOT NULL,
    response     jsonb        NOT NULL,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, idem_key)
);

-- Domain events written in the same transaction as the change they describe.
CREATE TABLE IF NOT EXISTS outbox (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type   varchar(100) NOT NULL,
    aggregate_id varchar(100) NOT NULL,
    payload      jsonb        NOT NULL,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (event_id) WHERE published_at IS NULL;
