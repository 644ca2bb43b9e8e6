package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Rollback implements api.Backend: a switch when the target revision is still warm (enough
// ready instances), otherwise a deployment of the old revision under the service's strategy.
func (b *Backend) Rollback(ctx context.Context, service string, req api.RollbackRequest) (api.Deployment, error) {
	svc, err := b.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	to, err := b.rollbackTarget(ctx, svc, req.To)
	if err != nil {
		return api.Deployment{}, err
	}
	rev, err := b.store.GetRevision(ctx, service, to)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("revision %d of %s is not in history: %w", to, service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	var rs spec.Service
	if err := json.Unmarshal(rev.Spec, &rs); err != nil {
		return api.Deployment{}, fmt.Errorf("decode revision %d: %w", to, err)
	}
	if active, err := b.store.ActiveDeployment(ctx, service); err == nil {
		return api.Deployment{}, fmt.Errorf("service %s has deployment %d %s: %w", service, active.ID, active.Status, api.ErrConflict)
	}
	forced, err := b.mig.CheckRollback(ctx, service, svc.Stable, to, rs, req)
	if err != nil {
		return api.Deployment{}, err
	}
	var out api.Deployment
	sw, err := b.ctrl.Switch(ctx, b.recorder, rs, svc.Stable, to)
	switch {
	case err == nil:
		out, err = b.Deployment(ctx, sw.ID)
		if err == nil && b.requireApproval {
			b.recordApprovalSkipped(ctx, service, out.ID, svc.Stable, to, api.Identity(ctx))
		}
	case errors.Is(err, rollout.ErrNotWarm):
		rev.CreatedBy = req.Who
		out, err = b.begin(ctx, &rs, rev, "rollback", svc.Stable, nil)
	default:
		err = fmt.Errorf("rollback of %s to revision %d: %w", service, to, err)
	}
	if err == nil && forced != "" {
		b.events.Record(ctx, service, out.ID, "rollback_forced", forced, map[string]any{"to": to, "who": req.Who, "reason": req.Reason})
	}
	return out, err
}

// recordApprovalSkipped records that a warm rollback switched without an approval on a
// daemon that requires them. That is deliberate: the switch is the emergency exit, it takes
// a deployer's token (approvers are for what goes forward), it starts nothing, and the
// revision it returns to already served here, so it passed the gate once. A rollback
// that must start instances is a deployment and waits for an approval like any other.
func (b *Backend) recordApprovalSkipped(ctx context.Context, service string, id int64, from, to int, who string) {
	msg := fmt.Sprintf("warm rollback of %s by %s switched revision %d → %d without an approval: an emergency switch back to a revision that already served here", service, who, from, to)
	b.events.Record(ctx, service, id, "approval_skipped", msg, map[string]any{"from": from, "to": to, "who": who, "reason": "warm rollback"})
}

func (b *Backend) rollbackTarget(ctx context.Context, svc store.Service, to int) (int, error) {
	if to == svc.Stable && to != 0 {
		return 0, fmt.Errorf("revision %d already serves %s: %w", to, svc.Name, api.ErrInvalid)
	}
	if to != 0 {
		return to, nil
	}
	// The revision that served before the stable one: the newest older revision that a
	// deployment made stable, skipping revisions that failed and never served.
	served, err := b.servedRevisions(ctx, svc.Name)
	if err != nil {
		return 0, err
	}
	revs, err := b.store.ListRevisions(ctx, svc.Name)
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
func (b *Backend) servedRevisions(ctx context.Context, service string) (map[int]bool, error) {
	deps, err := b.store.ListDeployments(ctx, service, 0)
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

// Act implements api.Backend: the action is handed to the deployment's controller, which
// persists it before answering.
func (b *Backend) Act(ctx context.Context, service, action string) (api.Deployment, error) {
	if action == "retry" {
		return b.retry(ctx, service)
	}
	active := b.fleet.ActiveDeployment(service)
	if active == nil {
		return api.Deployment{}, fmt.Errorf("service %s has no running deployment: %w", service, api.ErrNotFound)
	}
	req := rollout.Request{Action: rollout.Action(action), Who: api.Identity(ctx), Done: make(chan error, 1)}
	select {
	case active.Requests <- req:
	case <-active.Done:
		return api.Deployment{}, fmt.Errorf("deployment %d has ended: %w", active.Deployment.ID, api.ErrConflict)
	case <-ctx.Done():
		return api.Deployment{}, ctx.Err()
	}
	select {
	case err := <-req.Done:
		if errors.Is(err, rollout.ErrApprovalRefused) {
			return api.Deployment{}, fmt.Errorf("%w: %w", err, api.ErrForbidden)
		} else if err != nil {
			return api.Deployment{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
	case <-ctx.Done():
		return api.Deployment{}, ctx.Err()
	}
	return b.Deployment(ctx, active.Deployment.ID)
}

// retry deploys again the revision of the service's latest deployment when that one ended
// without success.
func (b *Backend) retry(ctx context.Context, service string) (api.Deployment, error) {
	deps, err := b.store.ListDeployments(ctx, service, 1)
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
	rev, err := b.store.GetRevision(ctx, service, last.To)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("revision %d of %s is no longer in history: %w", last.To, service, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	var rs spec.Service
	if err := json.Unmarshal(rev.Spec, &rs); err != nil {
		return api.Deployment{}, fmt.Errorf("decode revision %d: %w", last.To, err)
	}
	stable, _ := b.fleet.Serving(service)
	return b.begin(ctx, &rs, rev, "retry", stable, spec.Warnings(&rs))
}
