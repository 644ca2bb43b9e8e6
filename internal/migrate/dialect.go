package migrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Table is the name of the version table.
const Table = "cutover_migrations"

// dialect holds what differs between PostgreSQL and SQLite.
type dialect interface {
	name() string
	createTable() string
	tableExists() string // query returning one row when the table exists
	bind(q string) string
	// lock serialises runners for a whole run on conn; the returned func releases it. wait
	// bounds lock waits where the backend has no other way (SQLite's busy_timeout).
	lock(ctx context.Context, conn *sql.Conn, wait time.Duration) (func(), error)
	begin() string
	// beginTimeouts returns the statements that bound the wait of begin() itself.
	beginTimeouts(lock time.Duration) []string
	// timeouts returns the statements that set lock and statement timeouts for a
	// transaction (local) or the session.
	timeouts(lock, stmt time.Duration, local bool) []string
	resetTimeouts() []string
	isLockTimeout(err error) bool
}

// openDB opens driver's database without connecting.
func openDB(driver, dsn string) (*sql.DB, dialect, error) {
	switch strings.ToLower(driver) {
	case "postgres", "postgresql", "pgx":
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("parse postgres dsn: %w", err)
		}
		// The simple protocol runs DDL and statements such as CREATE INDEX CONCURRENTLY
		// exactly as written, without preparing them.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		return stdlib.OpenDB(*cfg), postgres{}, nil
	case "sqlite", "sqlite3":
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("open sqlite: %w", err)
		}
		return db, sqliteDialect{}, nil
	}
	return nil, nil, fmt.Errorf("%w %q (want postgres or sqlite)", ErrUnknownDriver, driver)
}

type postgres struct{}

func (postgres) name() string { return "postgres" }

func (postgres) createTable() string {
	return `CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	version bigint NOT NULL,
	name text NOT NULL,
	phase text NOT NULL CHECK (phase IN ('expand', 'contract', 'down')),
	checksum text NOT NULL,
	revision bigint NOT NULL,
	started_at timestamptz NOT NULL,
	duration_ms bigint NOT NULL
)`
}

func (postgres) tableExists() string {
	return `SELECT 1 WHERE to_regclass('` + Table + `') IS NOT NULL`
}

func (postgres) bind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// advisoryKey is the fixed key of the runners' advisory lock, derived from the table name.
var advisoryKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("cutover:" + Table))
	return int64(h.Sum64())
}()

func (postgres) lock(ctx context.Context, conn *sql.Conn, _ time.Duration) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryKey); err != nil {
		return nil, fmt.Errorf("take advisory lock: %w", err)
	}
	return func() {
		// A fresh context: the unlock must happen even when ctx was cancelled; if it fails the
		// lock ends with the session, which closing the connection ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, advisoryKey); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

func (postgres) begin() string { return "BEGIN" }

func (postgres) beginTimeouts(time.Duration) []string { return nil }

func (postgres) timeouts(lock, stmt time.Duration, local bool) []string {
	set := "SET "
	if local {
		set = "SET LOCAL "
	}
	return []string{
		set + "lock_timeout = " + strconv.FormatInt(lock.Milliseconds(), 10),
		set + "statement_timeout = " + strconv.FormatInt(stmt.Milliseconds(), 10),
	}
}

func (postgres) resetTimeouts() []string {
	return []string{"RESET lock_timeout", "RESET statement_timeout"}
}

func (postgres) isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) createTable() string {
	return `CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	phase TEXT NOT NULL CHECK (phase IN ('expand', 'contract', 'down')),
	checksum TEXT NOT NULL,
	revision INTEGER NOT NULL,
	started_at DATETIME NOT NULL,
	duration_ms INTEGER NOT NULL
)`
}

func (sqliteDialect) tableExists() string {
	return `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '` + Table + `'`
}

func (sqliteDialect) bind(q string) string { return q }

// lock only sets busy_timeout for SQLite: each migration runs under BEGIN IMMEDIATE and
// re-reads the log inside it, which serialises runners.
func (d sqliteDialect) lock(ctx context.Context, conn *sql.Conn, wait time.Duration) (func(), error) {
	for _, q := range d.timeouts(wait, 0, false) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("set busy_timeout: %w", err)
		}
	}
	return func() {}, nil
}

func (sqliteDialect) begin() string { return "BEGIN IMMEDIATE" }

// beginTimeouts bounds BEGIN IMMEDIATE, where SQLite waits for the database's write lock.
func (d sqliteDialect) beginTimeouts(lock time.Duration) []string { return d.timeouts(lock, 0, false) }

// timeouts maps lock_timeout to busy_timeout; SQLite has no statement timeout (the context
// deadline is the only bound). 0 means wait forever in cutover's terms, which busy_timeout
// cannot express, so it becomes one hour.
func (sqliteDialect) timeouts(lock, _ time.Duration, _ bool) []string {
	if lock == 0 {
		lock = time.Hour
	}
	return []string{"PRAGMA busy_timeout = " + strconv.FormatInt(lock.Milliseconds(), 10)}
}

func (sqliteDialect) resetTimeouts() []string { return nil }

func (sqliteDialect) isLockTimeout(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}
