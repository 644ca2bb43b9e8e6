package migrate

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, driver, dsn string
		want              string
		secret            string
	}{
		{"unknown driver", "mysql", "root@tcp(127.0.0.1)/app", "unknown database driver \"mysql\"", ""},
		{"postgres refuses", "postgres", "postgres://app:s3cr3t-pw@127.0.0.1:1/app?sslmode=disable&connect_timeout=2", "connect to postgres", "s3cr3t-pw"},
		{"postgres bad dsn", "postgres", "postgres://app:s3cr3t-pw@127.0.0.1:notaport/app", "parse postgres dsn", "s3cr3t-pw"},
		{"sqlite missing dir", "sqlite", filepath.Join(t.TempDir(), "no", "such", "dir", "app.db"), "connect to sqlite", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(t.Context(), tc.driver, tc.dsn, WithConnectTimeout(5*time.Second))
			if err == nil {
				r.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want it to contain %q", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("Open error leaks the password: %v", err)
			}
		})
	}
	if _, err := Open(t.Context(), "mysql", ""); !errors.Is(err, ErrUnknownDriver) {
		t.Errorf("Open mysql: %v, want ErrUnknownDriver", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// holdLock takes a lock in another session that blocks ALTER TABLE users and returns its
// release function.
func holdLock(t *testing.T, b backend) func() {
	t.Helper()
	conn, err := b.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	begin, lock := "BEGIN IMMEDIATE", ""
	if b.driver == "postgres" {
		begin, lock = "BEGIN", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"
	}
	for _, q := range []string{begin, lock} {
		if _, err := conn.ExecContext(t.Context(), q); q != "" && err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func TestLockTimeoutRetry(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		_, migs := migrations(t, map[string]string{
			"0001_users.sql": baseFiles["0001_users.sql"],
			"0002_email.sql": "-- +cutover lock_timeout 100ms\n-- +cutover expand\nALTER TABLE users ADD COLUMN email text;\n",
		})
		var logs syncBuffer
		r := b.open(t, WithRetry(20, 50*time.Millisecond, 100*time.Millisecond),
			WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if _, err := r.Expand(t.Context(), migs[:1], 1); err != nil {
			t.Fatal(err)
		}
		release := holdLock(t, b)
		time.AfterFunc(700*time.Millisecond, release)
		start := time.Now()
		got, err := r.Expand(t.Context(), migs, 2)
		if err != nil {
			t.Fatalf("expand while a lock is held then released: %v", err)
		}
		t.Logf("expand waited %v", time.Since(start))
		if len(got) != 1 || time.Since(start) < 600*time.Millisecond {
			t.Errorf("expand applied %v after %v, want migration 2 after the lock was released", summary(got), time.Since(start))
		}
		if n := strings.Count(logs.String(), "migration lock timeout"); n < 2 {
			t.Errorf("lock timeout retries logged: %d, want at least 2\n%s", n, logs.String())
		}
	})
}

func TestLockTimeoutGivesUp(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		_, migs := migrations(t, map[string]string{
			"0001_users.sql": baseFiles["0001_users.sql"],
			"0002_email.sql": "-- +cutover lock_timeout 50ms\n-- +cutover expand\nALTER TABLE users ADD COLUMN email text;\n",
		})
		r := b.open(t, WithRetry(2, 10*time.Millisecond, 20*time.Millisecond))
		if _, err := r.Expand(t.Context(), migs[:1], 1); err != nil {
			t.Fatal(err)
		}
		holdLock(t, b)
		_, err := r.Expand(t.Context(), migs, 2)
		if err == nil || !r.d.isLockTimeout(err) {
			t.Fatalf("expand while a lock is held: %v, want a lock timeout", err)
		}
		want := "0002_email.sql:3" // the ALTER TABLE waited; SQLite waits at BEGIN IMMEDIATE
		if b.driver == "sqlite" {
			want = "0002_email.sql: begin migration 2"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
		if n := b.count(t, "SELECT count(*) FROM "+Table+" WHERE phase = 'expand'"); n != 1 {
			t.Errorf("expand rows after giving up: %d, want 1", n)
		}
	})
}
