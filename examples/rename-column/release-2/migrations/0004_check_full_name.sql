-- Release 2, step 1: full_name must never be NULL. The check is added NOT VALID, which
-- takes only a short lock and no scan: rows written from now on are checked, old ones are
-- validated by 0005 in a transaction of its own, under a lock that lets reads and writes
-- go on (validating in the transaction that added it would hold the ADD's ACCESS
-- EXCLUSIVE lock for the whole scan).
-- +cutover lock_timeout 2s
-- +cutover expand
ALTER TABLE users ADD CONSTRAINT users_full_name_not_null CHECK (full_name IS NOT NULL) NOT VALID;

-- +cutover down
ALTER TABLE users DROP CONSTRAINT users_full_name_not_null;
