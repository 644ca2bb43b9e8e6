package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
)

// MigrationFile is one database migration file as a revision carries it: its base name and
// its content at deploy time, so that what the revision runs cannot change with the files.
type MigrationFile struct {
	Name    string
	Content []byte
	// Checksum is the hex SHA-256 of Content; the store computes it on insert and checks it
	// on read.
	Checksum string
}

// ErrCorrupt reports stored content that does not match its checksum.
var ErrCorrupt = errors.New("stored content does not match its checksum")

// MigrationFiles returns the migration files revision n of service carries, by name. A
// revision recorded without any (no database, or before schema version 3) has none; that
// is not an error. A file whose content no longer matches its checksum is an error
// wrapping ErrCorrupt.
func (s *Store) MigrationFiles(ctx context.Context, service string, n int) ([]MigrationFile, error) {
	op := fmt.Sprintf("read migration files of revision %s %d", service, n)
	rows, err := s.reader().QueryContext(ctx,
		`SELECT name, content, checksum FROM revision_migrations WHERE service = ? AND revision = ? ORDER BY name`, service, n)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []MigrationFile
	for rows.Next() {
		var f MigrationFile
		if err := rows.Scan(&f.Name, &f.Content, &f.Checksum); err != nil {
			return nil, wrap(op, err)
		}
		if sum := checksum(f.Content); sum != f.Checksum {
			return nil, fmt.Errorf("%s: %s: %w (stored %s, content %s)", op, f.Name, ErrCorrupt, f.Checksum, sum)
		}
		out = append(out, f)
	}
	return out, wrap(op, rows.Err())
}

// insertMigrationFiles stores the files of revision n; names must be base names, unique.
func insertMigrationFiles(ctx context.Context, q querier, service string, n int, files []MigrationFile) error {
	op := fmt.Sprintf("insert migration files of revision %s %d", service, n)
	for _, f := range files {
		if f.Name == "" || filepath.Base(f.Name) != f.Name {
			return fmt.Errorf("%s: name %q: want a file's base name", op, f.Name)
		}
		if _, err := q.ExecContext(ctx,
			`INSERT INTO revision_migrations (service, revision, name, content, checksum) VALUES (?, ?, ?, ?, ?)`,
			service, n, f.Name, nonNilBytes(f.Content), checksum(f.Content)); err != nil {
			return wrap(op+": "+f.Name, err)
		}
	}
	return nil
}

func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// nonNilBytes keeps an empty file a zero-length BLOB (the column is NOT NULL).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
