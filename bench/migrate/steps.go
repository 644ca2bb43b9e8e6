package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/migrate"
)

// step is one change of an expand; do applies it to the database.
type step struct {
	name string // the same in both modes, so rows pair up
	how  string
	do   func(ctx context.Context, env stepEnv) error
}

// stepEnv is what a step may use: the database and, for the safe mode, the runner and the
// migrations up to this step.
type stepEnv struct {
	db     *sql.DB
	runner *migrate.Runner
	dir    string
}

// mode is a whole expand, step by step.
type mode struct {
	name  string
	steps []step
}

// benchMigrations are the safe mode's migrations after the example's 0003.
var benchMigrations = map[string]string{
	"0004_add_status.sql": `-- A constant default is stored in the catalog: no rewrite, a short lock.
-- +cutover lock_timeout 2s
-- +cutover expand
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';
`,
	"0005_index_full_name.sql": `-- +cutover no-transaction
-- +cutover expand
CREATE INDEX CONCURRENTLY users_full_name_idx ON users (full_name);
`,
}

// exampleMigrations is the rename-column example's release 1: 0001 creates the table, 0002
// adds full_name and its trigger, 0003 backfills in batches.
const exampleMigrations = "examples/rename-column/release-1/migrations"

func safeMode() mode {
	upTo := func(version int) func(ctx context.Context, env stepEnv) error {
		return func(ctx context.Context, env stepEnv) error { return expandUpTo(ctx, env, version) }
	}
	return mode{name: "safe", steps: []step{
		{"add column full_name", "0002: ADD COLUMN full_name text, CREATE TRIGGER to sync name and full_name (lock_timeout 2s)", upTo(2)},
		{"backfill full_name", "0003: DO block, UPDATE … WHERE id in a 10,000-id range, COMMIT per batch", upTo(3)},
		{"add column with default", "ADD COLUMN status text NOT NULL DEFAULT 'active' (constant: catalog only)", upTo(4)},
		{"index full_name", "CREATE INDEX CONCURRENTLY (no-transaction migration)", upTo(5)},
	}}
}

func naiveMode() mode {
	exec := func(qs ...string) func(ctx context.Context, env stepEnv) error {
		return func(ctx context.Context, env stepEnv) error {
			for _, q := range qs {
				if _, err := env.db.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("%s: %w", q, err)
				}
			}
			return nil
		}
	}
	return mode{name: "naive", steps: []step{
		{"add column full_name", "ADD COLUMN full_name text (no lock_timeout)", exec("ALTER TABLE users ADD COLUMN full_name text")},
		{"backfill full_name", "one UPDATE users SET full_name = name", exec("UPDATE users SET full_name = name")},
		{"add column with default", "ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp() (volatile: rewrites the table)",
			exec("ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp()")},
		{"index full_name", "CREATE INDEX (without CONCURRENTLY)", exec("CREATE INDEX users_full_name_idx ON users (full_name)")},
	}}
}

// writeMigrations copies the example's release 1 and the bench's migrations into dir.
func writeMigrations(dir string) error {
	entries, err := os.ReadDir(exampleMigrations)
	if err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(exampleMigrations, e.Name()))
		if err != nil {
			return err
		}
		files[e.Name()] = string(b)
	}
	for name, text := range benchMigrations {
		files[name] = text
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// expandUpTo applies the pending expand parts of the migrations up to version.
func expandUpTo(ctx context.Context, env stepEnv, version int) error {
	migs, err := migrate.Load(env.dir)
	if err != nil {
		return err
	}
	var upTo []migrate.Migration
	for _, m := range migs {
		if m.Version <= version {
			upTo = append(upTo, m)
		}
	}
	_, err = env.runner.Expand(ctx, upTo, 1)
	return err
}
