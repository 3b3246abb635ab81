-- The warehouse table, Amazon Redshift dialect (database user_data).
-- The worker's `redshift` dialect emits the same DDL (it creates the table at start when it is
-- missing); worker/redshift_dialect_test.ts fails when the two drift. To create it by hand:
--   psql "$WAREHOUSE_URL" -f terraform/table_schema.sql
-- Column widths are bytes (Redshift VARCHAR counts bytes, and a non-ASCII character takes up to
-- 4); shared/event.ts validates the same limits (LIMITS) before a row is written.
-- Redshift does not enforce PRIMARY KEY (the planner uses it as a hint): one row per id is kept
-- by the worker's MERGE, which also never lets an older event overwrite a newer row.
CREATE TABLE IF NOT EXISTS users (
  id VARCHAR(36) NOT NULL,
  first_name VARCHAR(256) NOT NULL,
  last_name VARCHAR(256) NOT NULL,
  gender VARCHAR(32),
  address VARCHAR(1024),
  post_code VARCHAR(64),
  email VARCHAR(320) NOT NULL,
  username VARCHAR(256),
  dob TIMESTAMPTZ,
  registered_date TIMESTAMPTZ,
  phone VARCHAR(64),
  picture VARCHAR(1024),
  source VARCHAR(16) NOT NULL,            -- webhook | randomuser
  event_id VARCHAR(36) NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  date_added TIMESTAMPTZ NOT NULL,        -- first write of the row; never changed afterwards
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
)
-- Distributed and sorted by id: the MERGE joins the staging table to this one on id, so rows
-- with the same id meet on the same slice and the join reads sorted blocks.
DISTSTYLE KEY
DISTKEY (id)
SORTKEY (id);
