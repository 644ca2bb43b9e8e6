// Package pgtest gives tests a PostgreSQL database of their own on the server at
// $CUTOVER_TEST_PG_DSN (started by scripts/install-postgres). It is imported only by tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// defaultDSN is what scripts/install-postgres sets up.
const defaultDSN = "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"

// AdminDSN is the DSN of the test server's maintenance database.
func AdminDSN() string {
	if dsn := os.Getenv("CUTOVER_TEST_PG_DSN"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

// Database creates a database named prefix plus a random suffix, drops it when the test
// ends, and returns its DSN and a handle on it. Without a server it skips, except under
// CI=true where it fails.
func Database(t testing.TB, prefix string) (string, *sql.DB) {
	t.Helper()
	admin := AdminDSN()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("CUTOVER_TEST_PG_DSN must be a postgres:// URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI (run scripts/install-postgres): %v", err)
		}
		t.Skipf("no PostgreSQL at CUTOVER_TEST_PG_DSN (run scripts/install-postgres): %v", err)
	}
	defer c.Close(ctx)
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	name := prefix + hex.EncodeToString(buf[:])
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { drop(admin, name) })
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return u.String(), db
}

func drop(admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, admin); err == nil {
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		c.Close(ctx)
	}
}
