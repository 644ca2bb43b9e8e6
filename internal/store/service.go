package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Service is a named HTTP app that cutover runs and routes to.
type Service struct {
	Name string
	// Spec is the service's current spec as JSON; the store does not read it.
	Spec []byte
	// Stable is the revision serving now, 0 for none.
	Stable    int
	CreatedAt time.Time
	UpdatedAt time.Time
}

const serviceColumns = `name, spec, stable, created_at, updated_at`

// PutService inserts or replaces svc (Spec and Stable), keeping the CreatedAt of
// an existing row; a new row's CreatedAt is svc.CreatedAt, or now when zero.
// UpdatedAt is set to now.
func (s *Store) PutService(ctx context.Context, svc Service) error {
	op := "put service " + svc.Name
	if svc.Name == "" {
		return fmt.Errorf("%s: %w", op, errors.New("empty service name"))
	}
	t := now()
	created := svc.CreatedAt
	if created.IsZero() {
		created = t
	}
	_, err := s.writer().ExecContext(ctx, `
INSERT INTO services (name, spec, stable, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, stable = excluded.stable, updated_at = excluded.updated_at`,
		svc.Name, blob(s.sealSpec(svc.Spec)), svc.Stable, nanos(created), nanos(t))
	return s.fault(wrap(op, err))
}

// upsertSpec is PutService for BeginDeployment: it leaves an existing row's Stable
// alone, since starting a deployment does not change what is serving. svc.Spec is stored
// as given (sealed already, when the store seals).
func upsertSpec(ctx context.Context, q querier, svc Service) error {
	if svc.Name == "" {
		return errors.New("empty service name")
	}
	t := now()
	created := svc.CreatedAt
	if created.IsZero() {
		created = t
	}
	_, err := q.ExecContext(ctx, `
INSERT INTO services (name, spec, stable, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
		svc.Name, blob(svc.Spec), svc.Stable, nanos(created), nanos(t))
	return wrap("save service", err)
}

// GetService returns the named service, or an error wrapping ErrNotFound.
func (s *Store) GetService(ctx context.Context, name string) (Service, error) {
	row := s.reader().QueryRowContext(ctx, `SELECT `+serviceColumns+` FROM services WHERE name = ?`, name)
	svc, err := s.scanService(row)
	return svc, notFound("get service "+name, err)
}

// ListServices returns every service, ordered by name.
func (s *Store) ListServices(ctx context.Context) ([]Service, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+serviceColumns+` FROM services ORDER BY name`)
	if err != nil {
		return nil, wrap("list services", err)
	}
	defer rows.Close()
	var out []Service
	for rows.Next() {
		svc, err := s.scanService(rows)
		if err != nil {
			return nil, wrap("list services", err)
		}
		out = append(out, svc)
	}
	return out, wrap("list services", rows.Err())
}

// SetStable records rev as the revision serving the service (0: none). The
// service must exist, and so must the revision when rev is not 0.
func (s *Store) SetStable(ctx context.Context, service string, rev int) error {
	op := fmt.Sprintf("set stable revision of %s to %d", service, rev)
	return s.inTx(ctx, func(q querier) error {
		if rev != 0 {
			if _, err := getRevision(ctx, q, service, rev); err != nil {
				return wrap(op, err)
			}
		}
		res, err := q.ExecContext(ctx, `UPDATE services SET stable = ?, updated_at = ? WHERE name = ?`,
			rev, nanos(now()), service)
		return affectedOne(op, res, err)
	})
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// scanService reads a service row, its spec opened.
func (s *Store) scanService(r scanner) (Service, error) {
	var svc Service
	var created, updated int64
	if err := r.Scan(&svc.Name, &svc.Spec, &svc.Stable, &created, &updated); err != nil {
		return Service{}, err
	}
	svc.CreatedAt, svc.UpdatedAt = fromNanos(created), fromNanos(updated)
	spec, err := s.openSpec(svc.Spec)
	if err != nil {
		return Service{}, fmt.Errorf("spec of service %s: %w", svc.Name, err)
	}
	svc.Spec = spec
	return svc, nil
}

// DeleteService forgets a service that no longer runs: its row, revisions, deployments and
// instance records in one transaction. Its events (the audit trail) and secrets stay. An
// unknown service is an error wrapping ErrNotFound.
func (s *Store) DeleteService(ctx context.Context, name string) error {
	op := "delete service " + name
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM instances WHERE service = ?`, name); err != nil {
			return wrap(op, err)
		}
		res, err := q.ExecContext(ctx, `DELETE FROM services WHERE name = ?`, name)
		return affectedOne(op, res, err)
	})
}
