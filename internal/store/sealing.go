package store

import (
	"context"
	"errors"
	"fmt"
)

// Sealer encrypts values at rest (seal.Key is one). IsSealed tells its output from plain
// text written before sealing was in use.
type Sealer interface {
	Seal(label string, plain []byte) []byte
	Open(label string, sealed []byte) ([]byte, error)
	IsSealed(b []byte) bool
}

// specLabel binds sealed specs to their column: a sealed spec moved elsewhere does not open.
const specLabel = "store/spec"

// OpenSealed is Open for a store that keeps the specs of services and revisions (which hold
// secret env values) sealed by sealer. Specs an older cutover stored in plain text are
// sealed in place as the file is opened, their old bytes zeroed in the file and its WAL.
func OpenSealed(ctx context.Context, path string, sealer Sealer) (*Store, error) {
	s, err := open(ctx, path, migrations)
	if err != nil {
		return nil, err
	}
	s.sealer = sealer
	if err := s.sealPlainSpecs(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open store: %w", err), s.Close())
	}
	return s, nil
}

// sealSpec seals a spec before it is written; without a sealer it is kept as is.
func (s *Store) sealSpec(spec []byte) []byte {
	if s.sealer == nil || len(spec) == 0 {
		return spec
	}
	return s.sealer.Seal(specLabel, spec)
}

// openSpec returns the plain spec of a stored one: opened when sealed, as is when stored
// in plain text (before sealing was in use).
func (s *Store) openSpec(spec []byte) ([]byte, error) {
	if s.sealer == nil || !s.sealer.IsSealed(spec) {
		return spec, nil
	}
	return s.sealer.Open(specLabel, spec)
}

// sealPlainSpecs seals, in one transaction, every spec still stored in plain text, then
// checkpoints the WAL and truncates it: with secure_delete on, the old bytes are zeroed in
// the database file, and the WAL no longer holds them.
func (s *Store) sealPlainSpecs(ctx context.Context) error {
	n := 0
	err := s.Tx(ctx, func(tx *Store) error {
		for _, table := range []string{"services", "revisions"} {
			count, err := tx.sealTable(ctx, table)
			if err != nil {
				return err
			}
			n += count
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal plain specs: %w", err)
	}
	if n == 0 {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("seal plain specs: checkpoint: %w", err)
	}
	return nil
}

// sealTable seals the plain specs of one table and returns how many it sealed. s must be
// bound to a transaction.
func (s *Store) sealTable(ctx context.Context, table string) (int, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT rowid, spec FROM `+table+` WHERE spec IS NOT NULL`)
	if err != nil {
		return 0, err
	}
	type plain struct {
		rowid int64
		spec  []byte
	}
	var todo []plain
	for rows.Next() {
		var p plain
		if err := rows.Scan(&p.rowid, &p.spec); err != nil {
			rows.Close()
			return 0, err
		}
		if !s.sealer.IsSealed(p.spec) {
			todo = append(todo, p)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	for _, p := range todo {
		if _, err := s.tx.ExecContext(ctx, `UPDATE `+table+` SET spec = ? WHERE rowid = ?`,
			s.sealSpec(p.spec), p.rowid); err != nil {
			return 0, fmt.Errorf("seal spec in %s: %w", table, err)
		}
	}
	return len(todo), nil
}
