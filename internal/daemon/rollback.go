package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Rollback implements api.Backend: a switch when the target revision is still warm (enough
// ready instances), otherwise a deployment of the old revision under the service's strategy.
func (d *Daemon) Rollback(ctx context.Context, service string, req api.RollbackRequest) (api.Deployment, error) {
	svc, err := d.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	to, err := d.rollbackTarget(ctx, svc, req.To)
	if err != nil {
		return api.Deployment{}, err
	}
	rev, err := d.store.GetRevision(ctx, service, to)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("revision %d of %s is not in history: %w", to, service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	var rs spec.Service
	if err := json.Unmarshal(rev.Spec, &rs); err != nil {
		return api.Deployment{}, fmt.Errorf("decode revision %d: %w", to, err)
	}
	if active, err := d.store.ActiveDeployment(ctx, service); err == nil {
		return api.Deployment{}, fmt.Errorf("service %s has deployment %d %s: %w", service, active.ID, active.Status, api.ErrConflict)
	}
	forced, err := d.mig.CheckRollback(ctx, service, svc.Stable, to, rs, req)
	if err != nil {
		return api.Deployment{}, err
	}
	d.fleet.mu.Lock()
	warm := d.fleet.service(service).readyCount(to) >= rs.Replicas
	d.fleet.mu.Unlock()
	var out api.Deployment
	if warm {
		out, err = d.switchBack(ctx, &rs, svc.Stable, to, req.Who)
	} else {
		rev.CreatedBy = req.Who
		out, err = d.begin(ctx, &rs, rev, "rollback", svc.Stable, nil)
	}
	if err == nil && forced != "" {
		d.event(ctx, service, out.ID, "rollback_forced", forced, map[string]any{"to": to, "who": req.Who, "reason": req.Reason})
	}
	return out, err
}

func (d *Daemon) rollbackTarget(ctx context.Context, svc store.Service, to int) (int, error) {
	if to == svc.Stable && to != 0 {
		return 0, fmt.Errorf("revision %d already serves %s: %w", to, svc.Name, api.ErrInvalid)
	}
	if to != 0 {
		return to, nil
	}
	// The revision that served before the stable one: the newest older revision that a
	// deployment made stable, skipping revisions that failed and never served.
	served, err := d.servedRevisions(ctx, svc.Name)
	if err != nil {
		return 0, err
	}
	revs, err := d.store.ListRevisions(ctx, svc.Name)
	if err != nil {
		return 0, err
	}
	for _, r := range revs {
		if r.Number < svc.Stable && served[r.Number] {
			return r.Number, nil
		}
	}
	return 0, fmt.Errorf("service %s has no earlier revision that served to roll back to (use --to N): %w", svc.Name, api.ErrInvalid)
}

// servedRevisions lists the revisions that some deployment of the service made stable.
func (d *Daemon) servedRevisions(ctx context.Context, service string) (map[int]bool, error) {
	deps, err := d.store.ListDeployments(ctx, service, 0)
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, dep := range deps {
		if rollout.Status(dep.Status) == rollout.StatusSucceeded {
			out[dep.To] = true
		}
	}
	return out, nil
}

// switchBack moves all traffic to a warm revision in one swap, then records the deployment
// that did it, the new stable revision and the warm window of the revision that served, in
// one transaction (one fsync).
func (d *Daemon) switchBack(ctx context.Context, rs *spec.Service, from, to int, who string) (api.Deployment, error) {
	start := time.Now()
	if err := d.SetWeights(ctx, rs.Name, map[int]int{to: 100}, 0); err != nil {
		return api.Deployment{}, err
	}
	switched := time.Since(start)
	now := time.Now().UTC()
	st := rollout.State{Strategy: "switch", From: from, To: to, Replicas: rs.Replicas, Status: rollout.StatusSucceeded,
		Phase: "promoted", StartedAt: now, LastProgressAt: now, SwitchedAt: now}
	rd := &rollout.Deployment{Service: rs.Name, Spec: *rs, State: st}
	retire := d.retirements(rd)
	raw, _ := json.Marshal(rs)
	stateRaw, _ := json.Marshal(st)
	msg := fmt.Sprintf("rolled back to warm revision %d in one switch (%s)", to, switched.Round(time.Microsecond))
	data, _ := json.Marshal(map[string]any{"from": from, "to": to, "switch_us": switched.Microseconds()})
	var stored store.Deployment
	err := d.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		_, stored, err = tx.BeginDeployment(ctx, store.Service{Name: rs.Name, Spec: raw, Stable: from},
			store.Revision{Service: rs.Name, Number: to},
			store.Deployment{Service: rs.Name, Kind: "rollback", From: from, Strategy: "switch",
				Status: string(rollout.StatusSucceeded), State: stateRaw, FinishedAt: now})
		if err != nil {
			return err
		}
		if err := tx.SetStable(ctx, rs.Name, to); err != nil {
			return err
		}
		for _, in := range retire {
			if err := tx.PutInstance(ctx, in); err != nil {
				return err
			}
		}
		_, err = tx.AddEvent(ctx, store.Event{Service: rs.Name, DeploymentID: stored.ID, Type: "deployment_succeeded", Message: msg, Data: data})
		return err
	})
	if err != nil {
		d.restoreWeights(ctx, rs.Name, from)
		return api.Deployment{}, fmt.Errorf("record rollback of %s: %w", rs.Name, err)
	}
	d.logger.Info("deployment_succeeded", "service", rs.Name, "deployment_id", stored.ID, "message", msg)
	d.fleet.mu.Lock()
	s := d.fleet.service(rs.Name)
	s.stable, s.spec, s.preview = to, *rs, 0
	d.fleet.mu.Unlock()
	return toAPIDeployment(stored, st), nil
}

func (d *Daemon) restoreWeights(ctx context.Context, service string, rev int) {
	if err := d.SetWeights(ctx, service, map[int]int{rev: 100}, 0); err != nil {
		d.logger.Warn("restore weights", "service", service, "error", err)
	}
}

// Act implements api.Backend: the action is handed to the deployment's controller, which
// persists it before answering.
func (d *Daemon) Act(ctx context.Context, service, action string) (api.Deployment, error) {
	if action == "retry" {
		return d.retry(ctx, service)
	}
	d.fleet.mu.Lock()
	a := d.fleet.services[service]
	var active *activeDeployment
	if a != nil {
		active = a.active
	}
	d.fleet.mu.Unlock()
	if active == nil {
		return api.Deployment{}, fmt.Errorf("service %s has no running deployment: %w", service, api.ErrNotFound)
	}
	req := rollout.Request{Action: rollout.Action(action), Done: make(chan error, 1)}
	select {
	case active.requests <- req:
	case <-active.done:
		return api.Deployment{}, fmt.Errorf("deployment %d has ended: %w", active.d.ID, api.ErrConflict)
	case <-ctx.Done():
		return api.Deployment{}, ctx.Err()
	}
	select {
	case err := <-req.Done:
		if err != nil {
			return api.Deployment{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
	case <-ctx.Done():
		return api.Deployment{}, ctx.Err()
	}
	return d.Deployment(ctx, active.d.ID)
}

// retry deploys again the revision of the service's latest deployment when that one ended
// without success.
func (d *Daemon) retry(ctx context.Context, service string) (api.Deployment, error) {
	deps, err := d.store.ListDeployments(ctx, service, 1)
	if err != nil {
		return api.Deployment{}, err
	}
	if len(deps) == 0 {
		return api.Deployment{}, fmt.Errorf("service %s has no deployment to retry: %w", service, api.ErrNotFound)
	}
	last := deps[0]
	switch rollout.Status(last.Status) {
	case rollout.StatusFailed, rollout.StatusRolledBack, rollout.StatusAborted:
	default:
		return api.Deployment{}, fmt.Errorf("deployment %d of %s is %s; only a failed, rolled back or aborted one can be retried: %w",
			last.ID, service, last.Status, api.ErrConflict)
	}
	rev, err := d.store.GetRevision(ctx, service, last.To)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("revision %d of %s is no longer in history: %w", last.To, service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	var rs spec.Service
	if err := json.Unmarshal(rev.Spec, &rs); err != nil {
		return api.Deployment{}, fmt.Errorf("decode revision %d: %w", last.To, err)
	}
	d.fleet.mu.Lock()
	stable := d.fleet.service(service).stable
	d.fleet.mu.Unlock()
	return d.begin(ctx, &rs, rev, "retry", stable, spec.Warnings(&rs))
}
