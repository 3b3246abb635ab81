CREATE SCHEMA IF NOT EXISTS user_data_prod;

CREATE TABLE IF NOT EXISTS user_data_prod.users (
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
  source VARCHAR(16) NOT NULL,
  event_id VARCHAR(36) NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  date_added TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  nat VARCHAR(2),
  cell VARCHAR(256),
  PRIMARY KEY (id)
)
DISTSTYLE KEY
DISTKEY (id)
SORTKEY (id);
