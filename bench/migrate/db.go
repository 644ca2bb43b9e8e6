package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// createDatabase creates database name on the server of admin and returns its DSN and a
// function that drops it.
func createDatabase(ctx context.Context, admin, name string) (string, func(), error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("--dsn: want a postgres:// URL")
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return "", nil, fmt.Errorf("--dsn host %q: the bench talks to loopback only", h)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("connect to --dsn: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// seed fills users with rows rows and vacuums it, as a table that has lived a while.
func seed(ctx context.Context, db *sql.DB, rows int64) (time.Duration, error) {
	t0 := time.Now()
	for _, q := range []string{
		fmt.Sprintf("INSERT INTO users (name) SELECT 'user-' || g FROM generate_series(1, %d) g", rows),
		"VACUUM ANALYZE users",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	return time.Since(t0), nil
}

// lockStats is what sampling pg_stat_activity saw of the app's queries waiting for a lock.
type lockStats struct {
	longest time.Duration // the longest wait seen (now - query_start of a waiting query)
	waiting int           // samples in which at least one app query waited
	samples int
}

// sampleLocks polls pg_stat_activity every 10ms until ctx ends.
func sampleLocks(ctx context.Context, db *sql.DB) lockStats {
	const q = `SELECT count(*), COALESCE(EXTRACT(epoch FROM max(clock_timestamp() - query_start)), 0)
		FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'demoapp' AND wait_event_type = 'Lock'`
	var s lockStats
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		var n int
		var secs float64
		if err := db.QueryRowContext(ctx, q).Scan(&n, &secs); err == nil {
			s.samples++
			if n > 0 {
				s.waiting++
				s.longest = max(s.longest, time.Duration(secs*float64(time.Second)))
			}
		}
		select {
		case <-ctx.Done():
			return s
		case <-t.C:
		}
	}
}

// readNames returns the name of each user in ids.
func readNames(ctx context.Context, db *sql.DB, ids []int64) (map[int64]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT id, name FROM users WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

func serverVersion(ctx context.Context, dsn string) string {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "PostgreSQL ?"
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "PostgreSQL ?"
	}
	return "PostgreSQL " + v
}
