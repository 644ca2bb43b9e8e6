-- Release 2, step 2: the app (v2) reads and writes full_name only.
--
-- Expand: validate 0004's check (a scan under SHARE UPDATE EXCLUSIVE: reads and writes go
-- on). The trigger stays: while release 1 may still serve (during the rollout, or after a
-- rollback of release 2), v2's inserts get name from full_name, and release 1's reads stay
-- right.
--
-- Contract: runs only once no instance of a revision without this file is left. Then
-- nothing reads name: drop the trigger, its function and the column.
-- +cutover lock_timeout 2s
-- +cutover expand
ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null;

-- +cutover contract
DROP TRIGGER users_sync_names ON users;
DROP FUNCTION users_sync_names();
ALTER TABLE users DROP COLUMN name;
