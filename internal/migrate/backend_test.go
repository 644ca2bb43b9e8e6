package migrate

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/pgtest"
)

// backend is one test database: a fresh PostgreSQL database or SQLite file per test.
type backend struct {
	driver, dsn string
	db          *sql.DB // a second connection pool for assertions and lock holding
}

// backends runs f for SQLite and PostgreSQL, each on a fresh database.
func backends(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteBackend(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, pgBackend(t)) })
}

func sqliteBackend(t *testing.T) backend {
	dsn := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return backend{driver: "sqlite", dsn: dsn, db: db}
}

// pgBackend creates a database of its own for the test and drops it afterwards.
func pgBackend(t *testing.T) backend {
	t.Helper()
	dsn, db := pgtest.Database(t, "cutover_test_")
	return backend{driver: "postgres", dsn: dsn, db: db}
}

// open opens a Runner on b with fast retries for tests.
func (b backend) open(t *testing.T, opts ...Option) *Runner {
	t.Helper()
	opts = append([]Option{WithRetry(3, 20*time.Millisecond, 100*time.Millisecond)}, opts...)
	r, err := Open(t.Context(), b.driver, b.dsn, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", b.driver, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// count returns the result of a SELECT count(*) query on b.
func (b backend) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := b.db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// tableExists reports whether table exists in b.
func (b backend) tableExists(t *testing.T, table string) bool {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'"
	if b.driver == "postgres" {
		q = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '" + table + "'"
	}
	return b.count(t, q) == 1
}

// migrations writes files (name → text) into a fresh directory and loads them.
func migrations(t *testing.T, files map[string]string) (string, []Migration) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		write(t, dir, name, text)
	}
	migs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, migs
}
