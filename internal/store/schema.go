package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema steps in order; migrations[i] moves a file from
// schema version i to i+1 (PRAGMA user_version). Never edit a released step:
// append a new one.
var migrations = []string{
	// 1: services, revisions, deployments, instances, events.
	`
CREATE TABLE services (
	name          TEXT PRIMARY KEY,
	spec          BLOB,
	stable        INTEGER NOT NULL DEFAULT 0,
	last_revision INTEGER NOT NULL DEFAULT 0, -- numbers are never reused, even after pruning
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE revisions (
	service    TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
	number     INTEGER NOT NULL,
	spec       BLOB,
	spec_hash  TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (service, number)
) STRICT;

CREATE TABLE deployments (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	service     TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
	kind        TEXT NOT NULL DEFAULT '',
	from_rev    INTEGER NOT NULL DEFAULT 0,
	to_rev      INTEGER NOT NULL DEFAULT 0,
	strategy    TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL DEFAULT '',
	state       BLOB,
	reason      TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX deployments_service ON deployments(service, id);
-- At most one running or paused deployment per service, whatever the caller does.
CREATE UNIQUE INDEX deployments_active ON deployments(service) WHERE status IN ('running', 'paused');

CREATE TABLE instances (
	id            TEXT PRIMARY KEY,
	service       TEXT NOT NULL DEFAULT '',
	revision      INTEGER NOT NULL DEFAULT 0,
	deployment_id INTEGER NOT NULL DEFAULT 0,
	desired       TEXT NOT NULL DEFAULT '',
	addr          TEXT NOT NULL DEFAULT '',
	ready         INTEGER NOT NULL DEFAULT 0,
	ready_since   INTEGER NOT NULL DEFAULT 0,
	retire_at     INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX instances_service ON instances(service, created_at, id);

CREATE TABLE events (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	time          INTEGER NOT NULL,
	service       TEXT NOT NULL DEFAULT '',
	deployment_id INTEGER NOT NULL DEFAULT 0,
	type          TEXT NOT NULL DEFAULT '',
	message       TEXT NOT NULL DEFAULT '',
	data          BLOB
) STRICT;
CREATE INDEX events_service ON events(service, id);
CREATE INDEX events_deployment ON events(deployment_id, id);
`,
	// 2: feature flags and segments (current values), their audit history, SDK tokens.
	`
CREATE TABLE flag_items (
	kind       TEXT NOT NULL,           -- flag or segment
	key        TEXT NOT NULL,
	value      BLOB NOT NULL,           -- JSON, opaque to the store
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) STRICT;

CREATE TABLE flag_history (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL DEFAULT '',
	kind   TEXT NOT NULL,
	key    TEXT NOT NULL,
	before BLOB,                        -- JSON or NULL: did not exist
	after  BLOB                         -- JSON or NULL: deleted
) STRICT;
CREATE INDEX flag_history_key ON flag_history(kind, key, id);

CREATE TABLE sdk_tokens (
	name       TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,    -- hex SHA-256 of the token; the token itself is never stored
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT ''
) STRICT;
`,
	// 3: the migration files a revision carries, copied at deploy time (issue 7).
	`
CREATE TABLE revision_migrations (
	service  TEXT NOT NULL,
	revision INTEGER NOT NULL,
	name     TEXT NOT NULL,             -- base name, NNNN_name.sql
	content  BLOB NOT NULL,
	checksum TEXT NOT NULL,             -- hex SHA-256 of content
	PRIMARY KEY (service, revision, name),
	FOREIGN KEY (service, revision) REFERENCES revisions(service, number) ON DELETE CASCADE
) STRICT;
`,
	`
CREATE TABLE secrets (
	service    TEXT NOT NULL,
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,        -- 1, 2, ... per service and name
	value      BLOB,                    -- sealed; NULL: unset at this version
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	PRIMARY KEY (service, name, version)
) STRICT;
`,
	// notifications: the outbox of deliveries to notify targets, and how far the events
	// have been turned into deliveries.
	`
CREATE TABLE notify_outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id     INTEGER NOT NULL,
	target       TEXT NOT NULL,
	service      TEXT NOT NULL DEFAULT '',
	type         TEXT NOT NULL,
	body         BLOB NOT NULL,
	status       TEXT NOT NULL,           -- pending | delivered | failed | dropped
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (event_id, target)
) STRICT;
CREATE INDEX notify_outbox_pending ON notify_outbox(target, id) WHERE status = 'pending';
CREATE TABLE notify_cursor (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	event_id INTEGER NOT NULL
) STRICT;
`,
}

// schemaVersion reads the file's schema version.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// migrate moves the file at db forward to len(migs) in one transaction: either
// every pending step applies or none does. db must begin immediate transactions
// so that two processes cannot migrate the same file at once.
func migrate(ctx context.Context, db *sql.DB, path string, migs []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema of %s: %w", path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate schema of %s: %w", path, err)
	}
	if v > len(migs) {
		return tooNew(path, v, len(migs))
	}
	if v == len(migs) {
		return nil
	}
	for i := v; i < len(migs); i++ {
		if _, err := tx.ExecContext(ctx, migs[i]); err != nil {
			return fmt.Errorf("migrate schema of %s to version %d: %w", path, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is an int we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migs))); err != nil {
		return fmt.Errorf("migrate schema of %s: set version: %w", path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema of %s: commit: %w", path, err)
	}
	return nil
}

func tooNew(path string, have, know int) error {
	return fmt.Errorf("state file %s has schema version %d, this cutover knows up to %d: upgrade cutover",
		path, have, know)
}
