-- The warehouse table, Amazon Redshift dialect (database user_data).
-- The worker's `redshift` dialect emits the same DDL (it creates the table at start when it is
-- missing); worker/redshift_dialect_test.ts fails when the two drift. To create it by hand:
--   psql "$WAREHOUSE_URL" -f terraform/table_schema.sql
-- Column widths are bytes (Redshift VARCHAR counts bytes): 4 times the limit in characters that
-- shared/event.ts validates (LIMITS, counted in code points like the OpenAPI contract's
-- maxLength), since UTF-8 takes at most 4 bytes per character; id is a UUID, ASCII only.
-- worker/table_columns.ts derives the same widths from LIMITS. A table created with the earlier
-- 1-byte-per-character widths is widened in place (Redshift: one statement per column, outside a
-- transaction block; PostgreSQL takes the same statements):
--   ALTER TABLE users ALTER COLUMN first_name TYPE VARCHAR(1024);  -- last_name, username: 1024
--   ALTER TABLE users ALTER COLUMN gender TYPE VARCHAR(128);
--   ALTER TABLE users ALTER COLUMN address TYPE VARCHAR(4096);     -- picture: 4096
--   ALTER TABLE users ALTER COLUMN post_code TYPE VARCHAR(256);    -- phone: 256
--   ALTER TABLE users ALTER COLUMN email TYPE VARCHAR(1280);
-- Columns of a later event version come after updated_at, as ALTER TABLE appends them. The
-- worker adds the columns a table lacks at start (docs/schema.md), one statement per column,
-- nullable; by hand, on a table created before event version 2:
--   ALTER TABLE users ADD COLUMN nat VARCHAR(2);
--   ALTER TABLE users ADD COLUMN cell VARCHAR(256);
-- Redshift does not enforce PRIMARY KEY (the planner uses it as a hint): one row per id is kept
-- by the worker's MERGE, which also never lets an older event overwrite a newer row.
CREATE TABLE IF NOT EXISTS users (
  id VARCHAR(36) NOT NULL,
  first_name VARCHAR(1024) NOT NULL,
  last_name VARCHAR(1024) NOT NULL,
  gender VARCHAR(128),
  address VARCHAR(4096),
  post_code VARCHAR(256),
  email VARCHAR(1280) NOT NULL,
  username VARCHAR(1024),
  dob TIMESTAMPTZ,
  registered_date TIMESTAMPTZ,
  phone VARCHAR(256),
  picture VARCHAR(4096),
  source VARCHAR(16) NOT NULL,            -- webhook | randomuser
  event_id VARCHAR(36) NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  date_added TIMESTAMPTZ NOT NULL,        -- first write of the row; never changed afterwards
  updated_at TIMESTAMPTZ NOT NULL,
  nat VARCHAR(2),                         -- event version 2: nationality, two ASCII letters
  cell VARCHAR(256),                      -- event version 2: mobile phone
  PRIMARY KEY (id)
)
-- Distributed and sorted by id: the MERGE joins the staging table to this one on id, so rows
-- with the same id meet on the same slice and the join reads sorted blocks.
DISTSTYLE KEY
DISTKEY (id)
SORTKEY (id);
