-- Release 1, step 2: copy name into full_name for the rows written before the trigger, in
-- batches of 10,000 rows, each committed on its own: no long transaction, and no row locked
-- for longer than its batch. It runs outside a transaction so that the DO block may commit.
-- Rows written meanwhile already have full_name (trigger or dual write) and are skipped.
-- +cutover no-transaction
-- +cutover expand
DO $$
DECLARE
    last_id bigint := 0;
    max_id  bigint;
BEGIN
    SELECT COALESCE(max(id), 0) INTO max_id FROM users;
    WHILE last_id < max_id LOOP
        UPDATE users SET full_name = name
         WHERE id > last_id AND id <= last_id + 10000 AND full_name IS NULL;
        last_id := last_id + 10000;
        COMMIT;
    END LOOP;
END
$$;
