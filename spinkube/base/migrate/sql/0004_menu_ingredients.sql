-- The menu's types carry their ingredients, in the data set's order.
ALTER TABLE pizza_types ADD COLUMN IF NOT EXISTS ingredients text[] NOT NULL DEFAULT '{}';
