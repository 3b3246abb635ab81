CREATE SCHEMA IF NOT EXISTS user_data_prod;

CREATE TABLE IF NOT EXISTS user_data_prod.users (
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
