package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openTest opens a fresh store in a temporary directory and closes it after the test.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "state", "cutover.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawExec runs statements on the file with a plain connection, bypassing the store.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func pragma(t *testing.T, q querier, name string) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenCreatesPrivateFileInWALMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer s.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
	for name, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
		"user_version": fmt.Sprint(len(migrations)), "busy_timeout": fmt.Sprint(busyTimeoutMS),
	} {
		if got := pragma(t, s.w, name); got != want {
			t.Errorf("PRAGMA %s = %q, want %q", name, got, want)
		}
	}
	if got := pragma(t, s.r, "query_only"); got != "1" {
		t.Errorf("read pool query_only = %q, want 1", got)
	}
}

func TestOpenPathWithURISyntax(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?#% name.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	if err := s.PutService(t.Context(), Service{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("state file %q not written: %v", path, err)
	}
}

func TestOpenKeepsDataAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutService(t.Context(), Service{Name: "web", Spec: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.GetService(t.Context(), "web"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}

// newerSchemaFile makes a valid state file whose schema version is 99. It is in
// rollback-journal mode, so that switching it to WAL would change its bytes.
func newerSchemaFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawExec(t, path, "PRAGMA journal_mode = DELETE", "PRAGMA user_version = 99")
	return path
}

// garbageWithHeader is a file that starts like SQLite but is not one.
func garbageWithHeader() []byte {
	b := append([]byte{}, sqliteMagic...)
	for i := range 8192 {
		b = append(b, byte(i*7+3))
	}
	return b
}

// corruptedFile makes a state file with many rows and overwrites pages in its middle.
func corruptedFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := s.AddEvent(t.Context(), Event{Type: "fill", Message: strings.Repeat("x", 200), Data: fmt.Appendf(nil, `{"i":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 3*4096), 8*4096); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRefusesFileItCannotUse(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T) string
		wantErr string
	}{
		{"newer schema", newerSchemaFile,
			fmt.Sprintf("has schema version 99, this cutover knows up to %d: upgrade cutover", len(migrations))},
		{"text", func(t *testing.T) string {
			return writeFile(t, []byte("services:\n  web: {}\n"))
		}, "is not a SQLite database"},
		{"short", func(t *testing.T) string { return writeFile(t, []byte("SQL")) }, "is not a SQLite database"},
		{"garbage after header", func(t *testing.T) string { return writeFile(t, garbageWithHeader()) }, "state file"},
		{"corrupted pages", corruptedFile, "corrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want error containing %q", tt.name, tt.wantErr)
			}
			t.Logf("Open(%s): %v", tt.name, err)
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open(%s) error = %q, want it to name the file and contain %q", tt.name, err, tt.wantErr)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, before) {
				t.Errorf("Open(%s) changed the file", tt.name)
			}
		})
	}
}

func writeFile(t *testing.T, b []byte) string {
	path := filepath.Join(t.TempDir(), "cutover.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenMigratesOlderFileForward(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := open(t.Context(), path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutService(t.Context(), Service{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	next := append(append([]string{}, migrations...), `ALTER TABLE services ADD COLUMN owner TEXT NOT NULL DEFAULT 'ops'`)
	s, err = open(t.Context(), path, next)
	if err != nil {
		t.Fatalf("open with one more migration: %v", err)
	}
	defer s.Close()
	if got, want := pragma(t, s.w, "user_version"), fmt.Sprint(len(next)); got != want {
		t.Errorf("user_version = %s, want %s", got, want)
	}
	var owner string
	if err := s.r.QueryRowContext(t.Context(), `SELECT owner FROM services WHERE name = 'web'`).Scan(&owner); err != nil || owner != "ops" {
		t.Errorf("migrated row owner = %q, %v; want ops", owner, err)
	}
}

func TestOpenFailedMigrationChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := open(t.Context(), path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	next := append(append([]string{}, migrations...),
		`CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)`)
	if s, err := open(t.Context(), path, next); err == nil {
		s.Close()
		t.Fatal("open with a broken migration succeeded")
	} else if !strings.Contains(err.Error(), fmt.Sprintf("migrate schema of %s to version %d", path, len(next))) {
		t.Errorf("error = %q, want it to name the migration", err)
	}
	s, err = open(t.Context(), path, migrations)
	if err != nil {
		t.Fatalf("reopen after failed migration: %v", err)
	}
	defer s.Close()
	if got, want := pragma(t, s.w, "user_version"), fmt.Sprint(len(migrations)); got != want {
		t.Errorf("user_version = %s, want %s", got, want)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table from failed migration: count %d, %v; want 0", n, err)
	}
}

func TestReadsAreNotBlockedByATransaction(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if err := s.PutService(ctx, Service{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	inTx, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Tx(ctx, func(tx *Store) error {
			if err := tx.PutService(ctx, Service{Name: "api"}); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	// Bounded so that a read stuck behind the writer fails the test instead of hanging it.
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	svcs, err := s.ListServices(rctx)
	close(release)
	if err != nil {
		t.Fatalf("ListServices during a transaction: %v", err)
	}
	if len(svcs) != 1 || svcs[0].Name != "web" {
		t.Errorf("ListServices during a transaction = %v, want only the committed web", svcs)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetService(ctx, "api"); err != nil {
		t.Errorf("after commit: %v", err)
	}
}

func TestCloseOnBoundStoreIsAnError(t *testing.T) {
	s := openTest(t)
	err := s.Tx(t.Context(), func(tx *Store) error { return tx.Close() })
	if err == nil {
		t.Fatal("Close inside Tx succeeded")
	}
	if errors.Is(err, ErrNotFound) {
		t.Errorf("unexpected ErrNotFound: %v", err)
	}
}
