-- The warehouse table, Amazon Redshift dialect (database user_data).
-- The worker's `redshift` dialect emits the same DDL; a test fails when the two drift.
-- Column widths are bytes (Redshift VARCHAR counts bytes); shared/event.ts validates the same
-- limits before a row is written.
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
  source VARCHAR(16) NOT NULL,
  event_id VARCHAR(36) NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  date_added TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id)
)
DISTSTYLE KEY
DISTKEY (id)
SORTKEY (id);
