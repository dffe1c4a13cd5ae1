-- The customer-360 systems of record in one PostgreSQL database `shop` (run by scripts/infra
-- `up connect` as the superuser, idempotent). Column names are the ones the topology reads.
-- Every table has a primary key; REPLICA IDENTITY FULL on all of them: Debezium then sends full
-- before images on updates and deletes (Fast Data projections keep whole records, and the
-- single-view triggers need the old foreign key of a moved order or line), and unchanged TOAST
-- values are never replaced by a placeholder.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdc') THEN
    CREATE ROLE cdc LOGIN REPLICATION PASSWORD 'cdc';
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS customers (
  id        text PRIMARY KEY,
  full_name text NOT NULL,
  email     text,
  tier      text,
  signup_ms bigint
);
CREATE TABLE IF NOT EXISTS orders (
  order_id    text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON UPDATE CASCADE ON DELETE CASCADE,
  status      text NOT NULL,
  total       numeric(12,2) NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
  line_id  text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders (order_id) ON UPDATE CASCADE ON DELETE CASCADE,
  sku      text NOT NULL,
  quantity integer NOT NULL,
  price    numeric(10,2) NOT NULL
);
-- the marketing system's upper-case column names, as in the GoldenGate feed
CREATE TABLE IF NOT EXISTS preferences (
  "CUSTOMER_ID"  text PRIMARY KEY REFERENCES customers (id) ON UPDATE CASCADE ON DELETE CASCADE,
  "CHANNELS"     text[] NOT NULL DEFAULT '{}',
  "EMAIL_OPT_IN" boolean NOT NULL DEFAULT false
);
ALTER TABLE customers REPLICA IDENTITY FULL;
ALTER TABLE orders REPLICA IDENTITY FULL;
ALTER TABLE order_lines REPLICA IDENTITY FULL;
ALTER TABLE preferences REPLICA IDENTITY FULL;

GRANT SELECT ON customers, orders, order_lines, preferences TO cdc;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'tributary_shop') THEN
    CREATE PUBLICATION tributary_shop FOR TABLE customers, orders, order_lines, preferences;
  END IF;
END $$;
