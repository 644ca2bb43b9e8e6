package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPGDSN is what scripts/install-postgres sets up.
const defaultPGDSN = "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"

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

func pgAdminDSN() string {
	if dsn := os.Getenv("CUTOVER_TEST_PG_DSN"); dsn != "" {
		return dsn
	}
	return defaultPGDSN
}

// pgBackend creates a database of its own for the test and drops it afterwards. Without a
// server it skips, except under CI=true where it fails.
func pgBackend(t *testing.T) backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgAdminDSN())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI (run scripts/install-postgres): %v", err)
		}
		t.Skipf("no PostgreSQL at CUTOVER_TEST_PG_DSN (run scripts/install-postgres): %v", err)
	}
	defer admin.Close(ctx)
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	name := "cutover_test_" + hex.EncodeToString(buf[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, pgAdminDSN()); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(pgAdminDSN())
	if err != nil {
		t.Fatalf("CUTOVER_TEST_PG_DSN must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return backend{driver: "postgres", dsn: u.String(), db: db}
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
