package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Revision is one immutable, numbered version of a service. Numbers start at 1
// per service and are never reused, even after pruning.
type Revision struct {
	Service string
	Number  int
	// Spec is the revision's spec as JSON; the store does not read it.
	Spec      []byte
	SpecHash  string
	CreatedAt time.Time
	CreatedBy string
	Message   string
	// Migrations are the migration files the revision carries, stored with it in the same
	// transaction when it is inserted. GetRevision and ListRevisions leave it empty: read
	// them with MigrationFiles.
	Migrations []MigrationFile
}

const revisionColumns = `service, number, spec, spec_hash, created_at, created_by, message`

// GetRevision returns revision n of the service, or an error wrapping ErrNotFound.
func (s *Store) GetRevision(ctx context.Context, service string, n int) (Revision, error) {
	rev, err := getRevision(ctx, s.reader(), service, n)
	if err != nil {
		return Revision{}, err
	}
	return s.openRevision(rev)
}

// openRevision returns rev with its spec opened.
func (s *Store) openRevision(rev Revision) (Revision, error) {
	spec, err := s.openSpec(rev.Spec)
	if err != nil {
		return Revision{}, fmt.Errorf("spec of revision %s %d: %w", rev.Service, rev.Number, err)
	}
	rev.Spec = spec
	return rev, nil
}

// getRevision reads revision n of the service, its spec as stored (sealed or not).
func getRevision(ctx context.Context, q querier, service string, n int) (Revision, error) {
	row := q.QueryRowContext(ctx,
		`SELECT `+revisionColumns+` FROM revisions WHERE service = ? AND number = ?`, service, n)
	rev, err := scanRevision(row)
	return rev, notFound(fmt.Sprintf("get revision %s %d", service, n), err)
}

// ListRevisions returns the service's revisions, newest first.
func (s *Store) ListRevisions(ctx context.Context, service string) ([]Revision, error) {
	op := "list revisions of " + service
	rows, err := s.reader().QueryContext(ctx,
		`SELECT `+revisionColumns+` FROM revisions WHERE service = ? ORDER BY number DESC`, service)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err == nil {
			rev, err = s.openRevision(rev)
		}
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, rev)
	}
	return out, wrap(op, rows.Err())
}

// PruneRevisions deletes the service's revisions except the newest keep, the
// protected numbers, the stable revision and those a running or paused deployment
// moves from or to. It returns the removed numbers in ascending order.
func (s *Store) PruneRevisions(ctx context.Context, service string, keep int, protect []int) ([]int, error) {
	op := "prune revisions of " + service
	if keep < 0 {
		return nil, fmt.Errorf("%s: %w", op, errors.New("negative keep"))
	}
	var removed []int
	err := s.inTx(ctx, func(q querier) error {
		keepSet, err := pinnedRevisions(ctx, q, service)
		if err != nil {
			return err
		}
		numbers, err := revisionNumbers(ctx, q, service)
		if err != nil {
			return err
		}
		for i, n := range numbers {
			if i < keep || keepSet[n] || slices.Contains(protect, n) {
				continue
			}
			if _, err := q.ExecContext(ctx,
				`DELETE FROM revisions WHERE service = ? AND number = ?`, service, n); err != nil {
				return err
			}
			removed = append(removed, n)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	slices.Sort(removed)
	return removed, nil
}

// pinnedRevisions are the revisions that must survive pruning whatever the caller asks.
func pinnedRevisions(ctx context.Context, q querier, service string) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `
SELECT stable FROM services WHERE name = ?1
UNION SELECT from_rev FROM deployments WHERE service = ?1 AND status IN ('running', 'paused')
UNION SELECT to_rev FROM deployments WHERE service = ?1 AND status IN ('running', 'paused')`, service)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pinned := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		pinned[n] = true
	}
	return pinned, rows.Err()
}

// revisionNumbers lists the service's revision numbers, newest first.
func revisionNumbers(ctx context.Context, q querier, service string) ([]int, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT number FROM revisions WHERE service = ? ORDER BY number DESC`, service)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// insertRevision stores rev as the service's next number and returns it as stored.
// The service row must exist. rev.Spec is stored as given (sealed already, when the store
// seals).
func insertRevision(ctx context.Context, q querier, rev Revision) (Revision, error) {
	var n int
	err := q.QueryRowContext(ctx,
		`UPDATE services SET last_revision = last_revision + 1 WHERE name = ? RETURNING last_revision`,
		rev.Service).Scan(&n)
	if err != nil {
		return Revision{}, notFound("number revision", err)
	}
	rev.Number = n
	if rev.CreatedAt.IsZero() {
		rev.CreatedAt = now()
	}
	rev.CreatedAt = rev.CreatedAt.UTC()
	_, err = q.ExecContext(ctx, `INSERT INTO revisions (`+revisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rev.Service, rev.Number, blob(rev.Spec), rev.SpecHash, nanos(rev.CreatedAt), rev.CreatedBy, rev.Message)
	if err != nil {
		return Revision{}, wrap(fmt.Sprintf("insert revision %s %d", rev.Service, n), err)
	}
	if err := insertMigrationFiles(ctx, q, rev.Service, n, rev.Migrations); err != nil {
		return Revision{}, err
	}
	return rev, nil
}

func scanRevision(r scanner) (Revision, error) {
	var rev Revision
	var created int64
	if err := r.Scan(&rev.Service, &rev.Number, &rev.Spec, &rev.SpecHash, &created,
		&rev.CreatedBy, &rev.Message); err != nil {
		return Revision{}, err
	}
	rev.CreatedAt = fromNanos(created)
	return rev, nil
}
