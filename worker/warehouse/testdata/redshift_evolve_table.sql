-- params: ["user_data_prod","users"]
SELECT column_name, data_type, character_maximum_length, is_nullable
FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2;

ALTER TABLE user_data_prod.users ADD COLUMN nat VARCHAR(2);
ALTER TABLE user_data_prod.users ADD COLUMN cell VARCHAR(256);
