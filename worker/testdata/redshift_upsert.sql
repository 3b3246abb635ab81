CREATE TEMP TABLE users_stage (
  id VARCHAR(36),
  first_name VARCHAR(1024),
  last_name VARCHAR(1024),
  gender VARCHAR(128),
  address VARCHAR(4096),
  post_code VARCHAR(256),
  email VARCHAR(1280),
  username VARCHAR(1024),
  dob TIMESTAMPTZ,
  registered_date TIMESTAMPTZ,
  phone VARCHAR(256),
  picture VARCHAR(4096),
  source VARCHAR(16),
  event_id VARCHAR(36),
  event_time TIMESTAMPTZ
)
DISTKEY (id);

-- params: ["00000000-0000-4000-8000-000000000001","Zoë1","O'Brien","female","1 Rue de l'Église\tSaint-Étienne, Auvergne, France","10001","user1@example.com","user1","1990-05-17T08:30:00.000Z","2015-01-02T03:04:05.000Z","+33 1 23 45 67 89","https://randomuser.me/api/portraits/med/women/1.jpg","webhook","00000000-0000-4000-8000-00000000000a","2026-01-01T00:00:00.000Z","00000000-0000-4000-8000-000000000002","Zoë2","O'Brien",null,"2 Rue de l'Église\tSaint-Étienne, Auvergne, France","10002","user2@example.com","user2","1990-05-17T08:30:00.000Z","2015-01-02T03:04:05.000Z","+33 1 23 45 67 89","https://randomuser.me/api/portraits/med/women/2.jpg","webhook","00000000-0000-4000-8000-00000000000b","2026-01-01T00:00:00.000Z"]
INSERT INTO users_stage (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::VARCHAR::TIMESTAMPTZ, $10::VARCHAR::TIMESTAMPTZ, $11, $12, $13, $14, $15::VARCHAR::TIMESTAMPTZ), ($16, $17, $18, $19, $20, $21, $22, $23, $24::VARCHAR::TIMESTAMPTZ, $25::VARCHAR::TIMESTAMPTZ, $26, $27, $28, $29, $30::VARCHAR::TIMESTAMPTZ);

DELETE FROM users_stage
USING public.users
WHERE users_stage.id = users.id
  AND NOT (users_stage.event_time > users.event_time OR (users_stage.event_time = users.event_time AND users_stage.event_id > users.event_id));

-- params: ["2026-01-02T03:04:05.000Z"]
MERGE INTO public.users
USING users_stage
ON users.id = users_stage.id
WHEN MATCHED THEN
  UPDATE SET
    first_name = users_stage.first_name,
    last_name = users_stage.last_name,
    gender = users_stage.gender,
    address = users_stage.address,
    post_code = users_stage.post_code,
    email = users_stage.email,
    username = users_stage.username,
    dob = users_stage.dob,
    registered_date = users_stage.registered_date,
    phone = users_stage.phone,
    picture = users_stage.picture,
    source = users_stage.source,
    event_id = users_stage.event_id,
    event_time = users_stage.event_time,
    updated_at = $1::TIMESTAMPTZ
WHEN NOT MATCHED THEN
  INSERT (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, date_added, updated_at)
  VALUES (users_stage.id, users_stage.first_name, users_stage.last_name, users_stage.gender, users_stage.address, users_stage.post_code, users_stage.email, users_stage.username, users_stage.dob, users_stage.registered_date, users_stage.phone, users_stage.picture, users_stage.source, users_stage.event_id, users_stage.event_time, $1::TIMESTAMPTZ, $1::TIMESTAMPTZ);

DROP TABLE users_stage;
