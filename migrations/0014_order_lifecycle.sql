-- The order's life after it is placed: who may act on it (roles), where it is
-- (state and version), and how it got there (history). The rules of which state
-- may follow which live in crates/pizza/src/order/lifecycle.rs; a transition is
-- one statement (crates/pizza/src/store/order.rs) that moves the state, bumps the
-- version and writes a history row and an `order.<state>` outbox event.

-- Roles beyond `member`, which every account is: `staff` of one branch per row,
-- and `admin` (bran_id ''). Made by `pizza-db grant` (the first admin) and by the
-- admin endpoints; read by the login service into the token.
CREATE TABLE IF NOT EXISTS member_role (
    member_id  varchar(100) NOT NULL,
    role       varchar(16)  NOT NULL CHECK (role IN ('staff', 'admin')),
    bran_id    varchar(100) NOT NULL DEFAULT '',
    granted_by varchar(100) NOT NULL,
    granted_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, role, bran_id),
    CHECK ((role = 'admin') = (bran_id = ''))
);

-- NULL for orders placed before states existed (or by the Django service during
-- coexistence): they read as `completed`. Every change adds one to the version,
-- which is the order's ETag.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS state varchar(20);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;

-- The kitchen's queue: a branch's open orders, oldest first.
CREATE INDEX IF NOT EXISTS orders_open_idx ON orders (bran_id, order_id)
    WHERE state IN ('placed', 'accepted', 'baking', 'ready');

-- Every state an order entered, with who moved it and why. `history_id` also
-- orders a branch's changes: the kitchen's live queue waits for it to grow.
CREATE TABLE IF NOT EXISTS order_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   integer      NOT NULL,
    bran_id    varchar(100) NOT NULL,
    version    integer      NOT NULL,
    from_state varchar(20),
    to_state   varchar(20)  NOT NULL,
    actor      varchar(100) NOT NULL,
    actor_role varchar(16)  NOT NULL,
    reason     varchar(500),
    at         timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS order_history_order_idx ON order_history (order_id, history_id);
CREATE INDEX IF NOT EXISTS order_history_branch_idx ON order_history (bran_id, history_id);

-- The order service moves orders and writes their history; login reads roles
-- into the token. Neither may change a role.
GRANT UPDATE (state, version) ON orders TO pizza_order;
GRANT SELECT, INSERT ON order_history TO pizza_order;
GRANT SELECT ON member_role TO pizza_login;
