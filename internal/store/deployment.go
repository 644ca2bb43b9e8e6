package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Deployment is one attempt to move a service from its stable revision to another.
// A deployment whose Status is "running" or "paused" is active; a service has at
// most one active deployment.
type Deployment struct {
	ID       int64
	Service  string
	Kind     string // deploy | rollback
	From, To int
	Strategy string
	Status   string
	// State is the controller's persisted state as JSON; the store does not read it.
	State      []byte
	Reason     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

const deploymentColumns = `id, service, kind, from_rev, to_rev, strategy, status, state, reason,
	created_at, updated_at, finished_at`

// activeWhere selects active deployments; it matches the deployments_active index.
const activeWhere = `status IN ('running', 'paused')`

// BeginDeployment atomically starts a deployment. In one transaction it fails with
// a wrapped *ConflictError if the service has an active deployment; upserts svc
// (Spec; an existing service keeps its Stable and CreatedAt); when rev.Number is 0
// inserts rev as the service's next revision number, else requires that revision to
// exist (rev's other fields are then ignored); and inserts d with d.To set to the
// revision number (Kind defaults to "deploy", Status to "running"). It returns the
// stored revision and deployment. On any error nothing is changed and no revision
// number is consumed.
func (s *Store) BeginDeployment(ctx context.Context, svc Service, rev Revision, d Deployment) (Revision, Deployment, error) {
	return s.BeginDeploymentThen(ctx, svc, rev, d, nil)
}

// BeginDeploymentThen is BeginDeployment with then (when not nil) called inside the same
// transaction, once the revision and the deployment are stored: what it writes through tx
// (the deployment's state naming its revision, its first events) commits with them, in one
// commit, or not at all. The deployment it leaves in *d is the one returned.
func (s *Store) BeginDeploymentThen(ctx context.Context, svc Service, rev Revision, d Deployment,
	then func(tx *Store, rev Revision, d *Deployment) error) (Revision, Deployment, error) {
	op := "begin deployment of " + svc.Name
	if err := matchService(svc.Name, rev.Service, d.Service); err != nil {
		return Revision{}, Deployment{}, fmt.Errorf("%s: %w", op, err)
	}
	svc.Spec, rev.Spec = s.sealSpec(svc.Spec), s.sealSpec(rev.Spec)
	var stored Revision
	err := s.Tx(ctx, func(tx *Store) error {
		q := tx.tx
		if err := refuseActive(ctx, q, svc.Name); err != nil {
			return err
		}
		if err := upsertSpec(ctx, q, svc); err != nil {
			return err
		}
		var err error
		if rev.Number == 0 {
			rev.Service = svc.Name
			stored, err = insertRevision(ctx, q, rev)
		} else {
			stored, err = getRevision(ctx, q, svc.Name, rev.Number)
		}
		if err != nil {
			return err
		}
		if d, err = insertDeployment(ctx, q, svc.Name, stored.Number, d); err != nil || then == nil {
			return err
		}
		return then(tx, stored, &d)
	})
	if err == nil {
		stored, err = s.openRevision(stored)
	}
	if err != nil {
		return Revision{}, Deployment{}, wrap(op, err)
	}
	return stored, d, nil
}

// BeginSwitch records a warm switch in one transaction, the least that a daemon killed
// right after the switch needs to route as the proxy does: d, final from its start, and
// d.To as the service's stable revision with spec (JSON) as its spec. It fails with a
// wrapped *ConflictError if the service has an active deployment, and with ErrNotFound if
// revision d.To is not in history; on any error nothing is changed. It commits without
// waiting for the disk (see inTxUnsynced): the record survives the process's crash at once,
// and a power loss once the caller's next commit has returned.
func (s *Store) BeginSwitch(ctx context.Context, d Deployment, spec []byte) (Deployment, error) {
	op := fmt.Sprintf("record switch of %s to revision %d", d.Service, d.To)
	spec = s.sealSpec(spec)
	err := s.inTxUnsynced(ctx, func(q querier) error {
		if err := refuseActive(ctx, q, d.Service); err != nil {
			return err
		}
		if _, err := getRevision(ctx, q, d.Service, d.To); err != nil {
			return err
		}
		var err error
		if d, err = insertDeployment(ctx, q, d.Service, d.To, d); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `UPDATE services SET stable = ?, spec = ?, updated_at = ? WHERE name = ?`,
			d.To, blob(spec), nanos(now()), d.Service)
		return affectedOne("set stable revision", res, err)
	})
	if err != nil {
		return Deployment{}, wrap(op, err)
	}
	return d, nil
}

// refuseActive fails with a *ConflictError when the service has an active deployment.
func refuseActive(ctx context.Context, q querier, service string) error {
	active, err := activeDeployment(ctx, q, service)
	if err == nil {
		return &ConflictError{Service: service, DeploymentID: active.ID, Status: active.Status}
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// matchService refuses a revision or deployment that names another service.
func matchService(name string, others ...string) error {
	if name == "" {
		return errors.New("empty service name")
	}
	for _, o := range others {
		if o != "" && o != name {
			return fmt.Errorf("service %q does not match %q", o, name)
		}
	}
	return nil
}

func insertDeployment(ctx context.Context, q querier, service string, to int, d Deployment) (Deployment, error) {
	d.Service, d.To = service, to
	if d.Kind == "" {
		d.Kind = "deploy"
	}
	if d.Status == "" {
		d.Status = "running"
	}
	t := now()
	d.CreatedAt, d.UpdatedAt = t, t
	if !d.FinishedAt.IsZero() {
		d.FinishedAt = d.FinishedAt.UTC()
	}
	err := q.QueryRowContext(ctx, `
INSERT INTO deployments (service, kind, from_rev, to_rev, strategy, status, state, reason,
	created_at, updated_at, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.Service, d.Kind, d.From, d.To, d.Strategy, d.Status, blob(d.State), d.Reason,
		nanos(d.CreatedAt), nanos(d.UpdatedAt), nanos(d.FinishedAt)).Scan(&d.ID)
	if err != nil {
		return Deployment{}, wrap("insert deployment", err)
	}
	return d, nil
}

// UpdateDeployment saves d by ID: From, To, Strategy, Status, State, Reason and
// FinishedAt (Service, Kind and CreatedAt never change), and sets UpdatedAt to now.
// A missing ID is an error wrapping ErrNotFound. Making a second deployment of a
// service active is refused by a unique index.
func (s *Store) UpdateDeployment(ctx context.Context, d Deployment) error {
	res, err := s.writer().ExecContext(ctx, `
UPDATE deployments SET from_rev = ?, to_rev = ?, strategy = ?, status = ?, state = ?, reason = ?,
	finished_at = ?, updated_at = ?
WHERE id = ?`,
		d.From, d.To, d.Strategy, d.Status, blob(d.State), d.Reason, nanos(d.FinishedAt), nanos(now()), d.ID)
	return s.fault(affectedOne(fmt.Sprintf("update deployment %d", d.ID), res, err))
}

// GetDeployment returns the deployment with the ID, or an error wrapping ErrNotFound.
func (s *Store) GetDeployment(ctx context.Context, id int64) (Deployment, error) {
	row := s.reader().QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = ?`, id)
	d, err := scanDeployment(row)
	return d, notFound(fmt.Sprintf("get deployment %d", id), err)
}

// ActiveDeployment returns the service's running or paused deployment, or an
// error wrapping ErrNotFound.
func (s *Store) ActiveDeployment(ctx context.Context, service string) (Deployment, error) {
	return activeDeployment(ctx, s.reader(), service)
}

func activeDeployment(ctx context.Context, q querier, service string) (Deployment, error) {
	row := q.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments
WHERE service = ? AND `+activeWhere+` ORDER BY id DESC LIMIT 1`, service)
	d, err := scanDeployment(row)
	return d, notFound("active deployment of "+service, err)
}

// ActiveDeployments returns every running or paused deployment, by ID.
func (s *Store) ActiveDeployments(ctx context.Context) ([]Deployment, error) {
	rows, err := s.reader().QueryContext(ctx,
		`SELECT `+deploymentColumns+` FROM deployments WHERE `+activeWhere+` ORDER BY id`)
	return collectDeployments("list active deployments", rows, err)
}

// ListDeployments returns the service's deployments (service "": all), newest
// first, at most limit of them (limit <= 0: no limit).
func (s *Store) ListDeployments(ctx context.Context, service string, limit int) ([]Deployment, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var rows *sql.Rows
	var err error
	if service == "" {
		rows, err = s.reader().QueryContext(ctx,
			`SELECT `+deploymentColumns+` FROM deployments ORDER BY id DESC LIMIT ?`, limit)
	} else {
		rows, err = s.reader().QueryContext(ctx,
			`SELECT `+deploymentColumns+` FROM deployments WHERE service = ? ORDER BY id DESC LIMIT ?`,
			service, limit)
	}
	return collectDeployments("list deployments", rows, err)
}

func collectDeployments(op string, rows *sql.Rows, err error) ([]Deployment, error) {
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, d)
	}
	return out, wrap(op, rows.Err())
}

func scanDeployment(r scanner) (Deployment, error) {
	var d Deployment
	var created, updated, finished int64
	if err := r.Scan(&d.ID, &d.Service, &d.Kind, &d.From, &d.To, &d.Strategy, &d.Status, &d.State,
		&d.Reason, &created, &updated, &finished); err != nil {
		return Deployment{}, err
	}
	d.CreatedAt, d.UpdatedAt, d.FinishedAt = fromNanos(created), fromNanos(updated), fromNanos(finished)
	return d, nil
}
