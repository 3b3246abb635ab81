CREATE TEMP TABLE users_stage_0123456789ab (LIKE public.users);

-- undo, if a later transaction fails: DROP TABLE users_stage_0123456789ab;

-- params: ["00000000-0000-4000-8000-000000000002","Zoë2","O'Brien","male","2 Rue de l'Église\tSaint-Étienne, Auvergne, France","10002","user2@example.com","user2","1990-05-17T08:30:00.000Z","2015-01-02T03:04:05.000Z","+33 1 23 45 67 89","https://randomuser.me/api/portraits/med/women/2.jpg","webhook","00000000-0000-4000-8000-00000000000b","2026-01-01T00:00:00.000Z","FR","06 12 34 56 78","2026-01-02T03:04:05.000Z"]
INSERT INTO users_stage_0123456789ab (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, nat, cell, date_added, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::VARCHAR::TIMESTAMPTZ, $10::VARCHAR::TIMESTAMPTZ, $11, $12, $13, $14, $15::VARCHAR::TIMESTAMPTZ, $16, $17, $18::VARCHAR::TIMESTAMPTZ, $18::VARCHAR::TIMESTAMPTZ);

CREATE TEMP TABLE users_stage_0123456789ab_v1 (LIKE public.users);

-- undo, if a later transaction fails: DROP TABLE users_stage_0123456789ab_v1;

-- params: ["00000000-0000-4000-8000-000000000001","Zoë1","O'Brien","female","1 Rue de l'Église\tSaint-Étienne, Auvergne, France","10001","user1@example.com","user1","1990-05-17T08:30:00.000Z","2015-01-02T03:04:05.000Z","+33 1 23 45 67 89","https://randomuser.me/api/portraits/med/women/1.jpg","webhook","00000000-0000-4000-8000-00000000000a","2026-01-01T00:00:00.000Z","2026-01-02T03:04:05.000Z"]
INSERT INTO users_stage_0123456789ab_v1 (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, date_added, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::VARCHAR::TIMESTAMPTZ, $10::VARCHAR::TIMESTAMPTZ, $11, $12, $13, $14, $15::VARCHAR::TIMESTAMPTZ, $16::VARCHAR::TIMESTAMPTZ, $16::VARCHAR::TIMESTAMPTZ);

COMMIT;

LOCK public.users;

DELETE FROM users_stage_0123456789ab
USING public.users
WHERE users_stage_0123456789ab.id = users.id
  AND NOT (users_stage_0123456789ab.event_time > users.event_time OR (users_stage_0123456789ab.event_time = users.event_time AND users_stage_0123456789ab.event_id > users.event_id));

MERGE INTO public.users
USING users_stage_0123456789ab
ON users.id = users_stage_0123456789ab.id
WHEN MATCHED THEN
  UPDATE SET
    first_name = users_stage_0123456789ab.first_name,
    last_name = users_stage_0123456789ab.last_name,
    gender = users_stage_0123456789ab.gender,
    address = users_stage_0123456789ab.address,
    post_code = users_stage_0123456789ab.post_code,
    email = users_stage_0123456789ab.email,
    username = users_stage_0123456789ab.username,
    dob = users_stage_0123456789ab.dob,
    registered_date = users_stage_0123456789ab.registered_date,
    phone = users_stage_0123456789ab.phone,
    picture = users_stage_0123456789ab.picture,
    source = users_stage_0123456789ab.source,
    event_id = users_stage_0123456789ab.event_id,
    event_time = users_stage_0123456789ab.event_time,
    nat = users_stage_0123456789ab.nat,
    cell = users_stage_0123456789ab.cell,
    updated_at = users_stage_0123456789ab.updated_at
WHEN NOT MATCHED THEN
  INSERT (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, nat, cell, date_added, updated_at)
  VALUES (users_stage_0123456789ab.id, users_stage_0123456789ab.first_name, users_stage_0123456789ab.last_name, users_stage_0123456789ab.gender, users_stage_0123456789ab.address, users_stage_0123456789ab.post_code, users_stage_0123456789ab.email, users_stage_0123456789ab.username, users_stage_0123456789ab.dob, users_stage_0123456789ab.registered_date, users_stage_0123456789ab.phone, users_stage_0123456789ab.picture, users_stage_0123456789ab.source, users_stage_0123456789ab.event_id, users_stage_0123456789ab.event_time, users_stage_0123456789ab.nat, users_stage_0123456789ab.cell, users_stage_0123456789ab.date_added, users_stage_0123456789ab.updated_at);

DELETE FROM users_stage_0123456789ab_v1
USING public.users
WHERE users_stage_0123456789ab_v1.id = users.id
  AND NOT (users_stage_0123456789ab_v1.event_time > users.event_time OR (users_stage_0123456789ab_v1.event_time = users.event_time AND users_stage_0123456789ab_v1.event_id > users.event_id));

MERGE INTO public.users
USING users_stage_0123456789ab_v1
ON users.id = users_stage_0123456789ab_v1.id
WHEN MATCHED THEN
  UPDATE SET
    first_name = users_stage_0123456789ab_v1.first_name,
    last_name = users_stage_0123456789ab_v1.last_name,
    gender = users_stage_0123456789ab_v1.gender,
    address = users_stage_0123456789ab_v1.address,
    post_code = users_stage_0123456789ab_v1.post_code,
    email = users_stage_0123456789ab_v1.email,
    username = users_stage_0123456789ab_v1.username,
    dob = users_stage_0123456789ab_v1.dob,
    registered_date = users_stage_0123456789ab_v1.registered_date,
    phone = users_stage_0123456789ab_v1.phone,
    picture = users_stage_0123456789ab_v1.picture,
    source = users_stage_0123456789ab_v1.source,
    event_id = users_stage_0123456789ab_v1.event_id,
    event_time = users_stage_0123456789ab_v1.event_time,
    updated_at = users_stage_0123456789ab_v1.updated_at
WHEN NOT MATCHED THEN
  INSERT (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, date_added, updated_at)
  VALUES (users_stage_0123456789ab_v1.id, users_stage_0123456789ab_v1.first_name, users_stage_0123456789ab_v1.last_name, users_stage_0123456789ab_v1.gender, users_stage_0123456789ab_v1.address, users_stage_0123456789ab_v1.post_code, users_stage_0123456789ab_v1.email, users_stage_0123456789ab_v1.username, users_stage_0123456789ab_v1.dob, users_stage_0123456789ab_v1.registered_date, users_stage_0123456789ab_v1.phone, users_stage_0123456789ab_v1.picture, users_stage_0123456789ab_v1.source, users_stage_0123456789ab_v1.event_id, users_stage_0123456789ab_v1.event_time, users_stage_0123456789ab_v1.date_added, users_stage_0123456789ab_v1.updated_at);

DROP TABLE users_stage_0123456789ab;

DROP TABLE users_stage_0123456789ab_v1;
