-- Release 0: the app (DEMO_DB_SCHEMA=v0) keeps each user's name in users.name.
-- +cutover expand
CREATE TABLE users (
    id   bigserial PRIMARY KEY,
    name text NOT NULL
);

-- +cutover down
DROP TABLE users;
