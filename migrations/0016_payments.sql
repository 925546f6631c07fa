-- Carts, checkout and payments (`components/order/{cart,checkout,pay,webhook,relay}`,
-- `components/payments/*`). The saga runs over the outbox: each step is an event that a
-- relay claims with FOR UPDATE SKIP LOCKED and handles at least once, idempotently. The
-- rules live in crates/pizza/src/payments/ and crates/pizza/src/order/lifecycle.rs; the
-- SQL in crates/pizza/src/store/{cart,payment,relay}.rs.

-- A member's cart: the lines of the order to be, and its branch. Never deleted (checkout
-- empties it), so its version only grows and `If-Match` can never match a cart that was
-- replaced.
CREATE TABLE IF NOT EXISTS cart (
    member_id  varchar(100) PRIMARY KEY,
    bran_id    varchar(100),
    lines      jsonb        NOT NULL DEFAULT '[]',
    version    integer      NOT NULL,
    updated_at timestamptz  NOT NULL DEFAULT now()
);

-- Every payment attempt of an order: the first at checkout, one more per retry after a
-- decline. The provider's idempotency keys derive from (order_id, attempt).
CREATE TABLE IF NOT EXISTS order_payment (
    order_id     integer      NOT NULL,
    attempt      integer      NOT NULL,
    method       varchar(100) NOT NULL,
    amount_minor bigint       NOT NULL CHECK (amount_minor > 0),
    currency     varchar(3)   NOT NULL,
    request_key  varchar(255),
    intent_id    varchar(255),
    status       varchar(20)  NOT NULL DEFAULT 'requested'
                 CHECK (status IN ('requested', 'processing', 'succeeded', 'failed')),
    failure_code varchar(100),
    refund_id    varchar(255),
    created_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, attempt),
    UNIQUE (order_id, request_key)
);

-- The relay's bookkeeping on the outbox. `dedupe_key` makes an event that two sources
-- report (the provider's synchronous answer and its webhook) one row.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dedupe_key      varchar(255);
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS attempts        integer     NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until   timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS handled_at      timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dead_at         timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error      varchar(1000);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_dedupe_idx ON outbox (event_type, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
-- The saga's due events (the relay's claim reads only this index).
CREATE INDEX IF NOT EXISTS outbox_saga_due_idx ON outbox (next_attempt_at, event_id)
    WHERE handled_at IS NULL AND dead_at IS NULL
      AND event_type IN ('order.placed', 'payment.requested', 'payment.succeeded',
                         'payment.failed', 'order.cancelled', 'refund.succeeded');
CREATE INDEX IF NOT EXISTS outbox_dead_idx ON outbox (event_id) WHERE dead_at IS NOT NULL;
-- Events written before payments existed need no payment step.
UPDATE outbox SET handled_at = created_at
WHERE handled_at IS NULL AND event_type IN ('order.placed', 'order.cancelled')
  AND NOT (payload ? 'payment');

-- Webhook signatures already accepted: the same signature twice is a replay (a
-- redelivery is signed anew). Rows older than the signature's 5-minute window are
-- deleted by the statement that adds one.
CREATE TABLE IF NOT EXISTS payment_webhook_receipt (
    signature   varchar(200) PRIMARY KEY,
    received_at timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS payment_webhook_receipt_age_idx
    ON payment_webhook_receipt (received_at);

-- The kitchen's queue now starts at `paid` (checkout orders) besides `placed` (orders
-- placed without payment, paid at the counter).
CREATE INDEX IF NOT EXISTS orders_kitchen_idx ON orders (bran_id, order_id)
    WHERE state IN ('placed', 'paid', 'accepted', 'baking', 'ready');
DROP INDEX IF EXISTS orders_open_idx;

-- The test payment provider's books (`components/payments/test-provider`, deployed by
-- `make up`, the tests and the dev overlay only). It shares the order role: it is a
-- stand-in for another company's service, not part of the shop.
CREATE TABLE IF NOT EXISTS test_provider_intent (
    intent_id       varchar(64)  PRIMARY KEY,
    idempotency_key varchar(255) NOT NULL UNIQUE,
    amount          bigint       NOT NULL,
    currency        varchar(3)   NOT NULL,
    payment_method  varchar(100) NOT NULL,
    metadata        jsonb        NOT NULL DEFAULT '{}',
    status          varchar(30)  NOT NULL,
    failure_code    varchar(100),
    created_at      timestamptz  NOT NULL DEFAULT now(),
    confirmed_at    timestamptz
);
CREATE TABLE IF NOT EXISTS test_provider_refund (
    refund_id       varchar(64)  PRIMARY KEY,
    idempotency_key varchar(255) NOT NULL UNIQUE,
    intent_id       varchar(64)  NOT NULL,
    amount          bigint       NOT NULL,
    created_at      timestamptz  NOT NULL DEFAULT now()
);
-- While `down_until` is ahead, the test provider answers every call with 503.
CREATE TABLE IF NOT EXISTS test_provider_outage (
    id         integer PRIMARY KEY CHECK (id = 1),
    down_until timestamptz NOT NULL
);

-- The order service keeps carts, takes payments and runs the relay: it reads the outbox
-- it writes (0008 kept SELECT for a relay of its own; the relay is the order service's).
GRANT SELECT, INSERT, UPDATE ON cart TO pizza_order;
GRANT SELECT, INSERT, UPDATE ON order_payment TO pizza_order;
GRANT SELECT ON outbox TO pizza_order;
GRANT UPDATE (attempts, next_attempt_at, claimed_until, handled_at, dead_at, last_error)
    ON outbox TO pizza_order;
GRANT SELECT, INSERT, DELETE ON payment_webhook_receipt TO pizza_order;
GRANT SELECT, INSERT, UPDATE ON test_provider_intent, test_provider_refund TO pizza_order;
GRANT SELECT ON test_provider_outage TO pizza_order;
-- Admins see dead-lettered events and send them back to the relay.
GRANT SELECT ON outbox TO pizza_admin_api;
GRANT UPDATE (attempts, next_attempt_at, claimed_until, dead_at, last_error)
    ON outbox TO pizza_admin_api;
