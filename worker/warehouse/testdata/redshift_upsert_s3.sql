CREATE TEMP TABLE users_stage_0123456789ab (LIKE public.users);

-- undo, if a later transaction fails: DROP TABLE users_stage_0123456789ab;

-- objects: staging/20260102t030405z-00000000-0000-4000-8000-0123456789ab/part-NNNNN.csv.gz, 1000 rows + ["2026-01-02T03:04:05.000Z","2026-01-02T03:04:05.000Z"]
COPY users_stage_0123456789ab (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, date_added, updated_at)
FROM 's3://user-pipeline-staging-abc/staging/20260102t030405z-00000000-0000-4000-8000-0123456789ab/'
IAM_ROLE default
FORMAT AS CSV
GZIP
NULL AS '@NULL@'
TIMEFORMAT 'auto'
COMPUPDATE OFF
STATUPDATE OFF
MAXERROR 0;

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
    updated_at = users_stage_0123456789ab.updated_at
WHEN NOT MATCHED THEN
  INSERT (id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, source, event_id, event_time, date_added, updated_at)
  VALUES (users_stage_0123456789ab.id, users_stage_0123456789ab.first_name, users_stage_0123456789ab.last_name, users_stage_0123456789ab.gender, users_stage_0123456789ab.address, users_stage_0123456789ab.post_code, users_stage_0123456789ab.email, users_stage_0123456789ab.username, users_stage_0123456789ab.dob, users_stage_0123456789ab.registered_date, users_stage_0123456789ab.phone, users_stage_0123456789ab.picture, users_stage_0123456789ab.source, users_stage_0123456789ab.event_id, users_stage_0123456789ab.event_time, users_stage_0123456789ab.date_added, users_stage_0123456789ab.updated_at);

DROP TABLE users_stage_0123456789ab;
