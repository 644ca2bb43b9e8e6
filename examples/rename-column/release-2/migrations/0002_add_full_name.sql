-- Release 1, step 1: add users.full_name next to users.name, and keep the two in step for
-- writers that know only one of them. Release 0 (v0) still serves while this runs and
-- after it (and again after a rollback), writing name only: the trigger copies it into
-- full_name. Release 1 (v1) writes both; release 2 (v2) writes full_name only, and the
-- trigger copies it back into name, so release 1 still reads right after a rollback.
--
-- ADD COLUMN without a default changes only the catalog; CREATE TRIGGER takes a short
-- SHARE ROW EXCLUSIVE lock. Both wait at most lock_timeout, and the runner retries.
-- +cutover lock_timeout 2s
-- +cutover expand
ALTER TABLE users ADD COLUMN full_name text;

CREATE FUNCTION users_sync_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.full_name := COALESCE(NEW.full_name, NEW.name);
        NEW.name := COALESCE(NEW.name, NEW.full_name);
    ELSIF NEW.name IS DISTINCT FROM OLD.name AND NEW.full_name IS NOT DISTINCT FROM OLD.full_name THEN
        NEW.full_name := NEW.name;      -- an old writer renamed the user
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name AND NEW.name IS NOT DISTINCT FROM OLD.name THEN
        NEW.name := NEW.full_name;      -- a new writer (or the backfill) set full_name
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_sync_names BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_names();

-- +cutover down
DROP TRIGGER users_sync_names ON users;
DROP FUNCTION users_sync_names();
ALTER TABLE users DROP COLUMN full_name;
