package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteMagic opens every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// busyTimeoutMS is how long a statement waits for another process's lock.
const busyTimeoutMS = 10000

// readConns bounds the read pool.
const readConns = 4

// Open opens the state file at path, creating it (mode 0600, parent directory
// 0700) when missing, and migrates an older schema forward in one transaction.
// It refuses, without writing to it, a file that is not a SQLite database, fails
// PRAGMA quick_check, or has a schema newer than this binary knows. The file is
// put in WAL mode with synchronous=FULL, foreign keys on, and secure_delete on, so that
// what a write replaces or deletes is zeroed, not left in free space. The caller closes the
// Store.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, migrations)
}

func open(ctx context.Context, path string, migs []string) (*Store, error) {
	if err := prepareFile(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, "_txlock=immediate", "_foreign_keys=1", "_synchronous=FULL",
		"_pragma=secure_delete(1)"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := setUp(ctx, w, path, migs); err != nil {
		return nil, errors.Join(fmt.Errorf("open store: %w", err), w.Close())
	}
	r, err := sql.Open("sqlite", dsn(path, "_query_only=1"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), w.Close())
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	if err := r.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), r.Close(), w.Close())
	}
	return &Store{path: path, w: w, r: r}, nil
}

// setUp checks the file and only then changes it: WAL mode, then migrations.
func setUp(ctx context.Context, w *sql.DB, path string, migs []string) error {
	if err := check(ctx, w, path); err != nil {
		return err
	}
	v, err := schemaVersion(ctx, w)
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	if v > len(migs) {
		return tooNew(path, v, len(migs))
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode on %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL mode on %s: journal mode is %q", path, mode)
	}
	return migrate(ctx, w, path, migs)
}

// check refuses a file that SQLite cannot read or whose pages are damaged.
func check(ctx context.Context, w *sql.DB, path string) error {
	rows, err := w.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("state file %s is unreadable or corrupted: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("state file %s is unreadable or corrupted: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("state file %s is unreadable or corrupted: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("state file %s is corrupted: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// prepareFile creates the parent directory and an empty file when missing, and
// refuses a non-empty file that does not start like a SQLite database: the driver
// would otherwise be free to treat it as one.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create state file: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil // empty: a new database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read state file: %w", err)
	case !bytes.Equal(head[:n], sqliteMagic):
		return fmt.Errorf("state file %s is not a SQLite database", path)
	}
	return nil
}

// dsn builds a file: URI for the driver, escaping the path so that '?', '#' or
// '%' in it cannot be read as URI syntax.
func dsn(path string, params ...string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), OmitHost: true}
	q := append([]string{fmt.Sprintf("_busy_timeout=%d", busyTimeoutMS)}, params...)
	return u.String() + "?" + strings.Join(q, "&")
}
