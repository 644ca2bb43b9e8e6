package store

import (
	"context"
	"errors"
	"time"
)

// Instance is one running process, container or pod of a revision, as the
// daemon last recorded it.
type Instance struct {
	ID           string
	Service      string
	Revision     int
	DeploymentID int64
	// Desired is "run" or "stop".
	Desired    string
	Addr       string
	Ready      bool
	ReadySince time.Time
	RetireAt   time.Time
	CreatedAt  time.Time
}

const instanceColumns = `id, service, revision, deployment_id, desired, addr, ready, ready_since,
	retire_at, created_at`

// Instances is the store's instance records (Store.Instances).
type Instances struct{ s *Store }

// Instances reaches the instance records, in s's transaction when s is bound to one.
func (s *Store) Instances() Instances { return Instances{s} }

// Put inserts or replaces the instance by ID, keeping the CreatedAt of an
// existing row; a new row's CreatedAt is in.CreatedAt, or now when zero.
func (is Instances) Put(ctx context.Context, in Instance) error {
	return is.s.fault(putInstance(ctx, is.s.writer(), in))
}

func putInstance(ctx context.Context, q querier, in Instance) error {
	op := "put instance " + in.ID
	if in.ID == "" {
		return wrap(op, errors.New("empty instance id"))
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now()
	}
	_, err := q.ExecContext(ctx, `
INSERT INTO instances (`+instanceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET service = excluded.service, revision = excluded.revision,
	deployment_id = excluded.deployment_id, desired = excluded.desired, addr = excluded.addr,
	ready = excluded.ready, ready_since = excluded.ready_since, retire_at = excluded.retire_at`,
		in.ID, in.Service, in.Revision, in.DeploymentID, in.Desired, in.Addr, in.Ready,
		nanos(in.ReadySince), nanos(in.RetireAt), nanos(in.CreatedAt))
	return wrap(op, err)
}

// PutBeforeStart records instances about to be started, in one transaction that commits
// without waiting for the disk (see inTxUnsynced): the records survive a kill -9 as soon as
// it returns, a power loss once the next synced commit of the store has returned (which
// the caller makes before it reports the instances started). A power loss before that
// loses the processes as well as their records.
func (is Instances) PutBeforeStart(ctx context.Context, ins []Instance) error {
	if len(ins) == 0 {
		return nil
	}
	return is.s.inTxUnsynced(ctx, func(q querier) error {
		for _, in := range ins {
			if err := putInstance(ctx, q, in); err != nil {
				return err
			}
		}
		return nil
	})
}

// Get returns the instance with the ID, or an error wrapping ErrNotFound.
func (is Instances) Get(ctx context.Context, id string) (Instance, error) {
	row := is.s.reader().QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = ?`, id)
	in, err := scanInstance(row)
	return in, notFound("get instance "+id, err)
}

// List returns the service's instances (service "": all), ordered by
// CreatedAt, then ID.
func (is Instances) List(ctx context.Context, service string) ([]Instance, error) {
	q := `SELECT ` + instanceColumns + ` FROM instances`
	var args []any
	if service != "" {
		q += ` WHERE service = ?`
		args = append(args, service)
	}
	rows, err := is.s.reader().QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, wrap("list instances", err)
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, wrap("list instances", err)
		}
		out = append(out, in)
	}
	return out, wrap("list instances", rows.Err())
}

// Delete removes the instance with the ID; a missing one is not an error.
func (is Instances) Delete(ctx context.Context, id string) error {
	_, err := is.s.writer().ExecContext(ctx, `DELETE FROM instances WHERE id = ?`, id)
	return is.s.fault(wrap("delete instance "+id, err))
}

func scanInstance(r scanner) (Instance, error) {
	var in Instance
	var readySince, retireAt, created int64
	if err := r.Scan(&in.ID, &in.Service, &in.Revision, &in.DeploymentID, &in.Desired, &in.Addr,
		&in.Ready, &readySince, &retireAt, &created); err != nil {
		return Instance{}, err
	}
	in.ReadySince, in.RetireAt, in.CreatedAt = fromNanos(readySince), fromNanos(retireAt), fromNanos(created)
	return in, nil
}
