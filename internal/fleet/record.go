package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// saveState persists a deployment's state. A deployment that ends is recorded in the same
// transaction as its effect on the service (new stable revision, warm window of the old one).
func (f *Fleet) saveState(ctx context.Context, dep *rollout.Deployment) error {
	raw, err := json.Marshal(dep.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	rec, err := f.store.GetDeployment(ctx, dep.ID)
	if err != nil {
		return err
	}
	rec.Status, rec.State, rec.Reason = string(dep.State.Status), raw, dep.State.Reason
	final := !dep.State.Status.Active()
	if final && rec.FinishedAt.IsZero() {
		rec.FinishedAt = time.Now().UTC()
	}
	if !final {
		return f.store.UpdateDeployment(ctx, rec)
	}
	succeeded := dep.State.Status == rollout.StatusSucceeded
	retire := f.retirements(dep)
	err = f.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateDeployment(ctx, rec); err != nil {
			return err
		}
		if !succeeded {
			return nil
		}
		if err := tx.SetStable(ctx, dep.Service, dep.State.To); err != nil {
			return err
		}
		return putInstances(ctx, tx, retire)
	})
	if err != nil {
		return fmt.Errorf("finish deployment %d: %w", dep.ID, err)
	}
	if succeeded {
		f.promote(dep.Service, dep.State.To, dep.Spec)
		f.prune(ctx, dep.Service, dep.ID)
	}
	return nil
}

// recordSwitch records a warm switch, final from the start: the deployment, its event, the
// new stable revision and the warm window of the revision that served, in one transaction
// (one fsync), before traffic moves. It sets dep.ID.
func (f *Fleet) recordSwitch(ctx context.Context, dep *rollout.Deployment, message string, data map[string]any) error {
	raw, err := json.Marshal(dep.Spec)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	stateRaw, err := json.Marshal(dep.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dataRaw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	st, name := dep.State, dep.Service
	retire := f.retirements(dep)
	var stored store.Deployment
	err = f.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		_, stored, err = tx.BeginDeployment(ctx, store.Service{Name: name, Spec: raw, Stable: st.From},
			store.Revision{Service: name, Number: st.To},
			store.Deployment{Service: name, Kind: "rollback", From: st.From, Strategy: st.Strategy,
				Status: string(st.Status), State: stateRaw, FinishedAt: st.SwitchedAt})
		if err != nil {
			return err
		}
		if err := tx.SetStable(ctx, name, st.To); err != nil {
			return err
		}
		if err := putInstances(ctx, tx, retire); err != nil {
			return err
		}
		_, err = tx.AddEvent(ctx, store.Event{Service: name, DeploymentID: stored.ID, Type: "deployment_succeeded", Message: message, Data: dataRaw})
		return err
	})
	if err != nil {
		return err
	}
	dep.ID = stored.ID
	f.logger.Info("deployment_succeeded", "service", name, "deployment_id", stored.ID, "message", message)
	f.setStable(name, st.To, dep.Spec)
	return nil
}

func putInstances(ctx context.Context, tx *store.Store, ins []store.Instance) error {
	for _, in := range ins {
		if err := tx.PutInstance(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// retirements gives the old revision's instances of a succeeded blue-green deployment (or
// warm switch) their end of the warm window; other strategies leave none behind.
func (f *Fleet) retirements(dep *rollout.Deployment) []store.Instance {
	if dep.State.Status != rollout.StatusSucceeded {
		return nil
	}
	delay := time.Duration(0)
	if bg := dep.Spec.Strategy.BlueGreen; bg != nil {
		delay = bg.ScaleDownDelay.D()
	}
	return f.retire(dep.Service, dep.State.To, time.Now().Add(delay).UTC())
}

// prune trims the service's history to revision_history_limit, keeping the stable revision
// and every revision that still has an instance. It runs at promotion and again when the
// last instance of an old revision is gone.
func (f *Fleet) prune(ctx context.Context, service string, deploymentID int64) {
	limit, protect := f.history(service)
	if limit <= 0 {
		return
	}
	removed, err := f.store.PruneRevisions(ctx, service, limit, protect)
	if err != nil {
		f.logger.Warn("prune revisions", "service", service, "error", err)
	} else if len(removed) > 0 {
		f.event(ctx, service, deploymentID, "revisions_pruned", fmt.Sprintf("revisions %v removed from history (revision_history_limit %d)", removed, limit), nil)
	}
}

// RevisionSpec returns a revision's spec, from the fleet's cache or the store.
func (f *Fleet) RevisionSpec(ctx context.Context, service string, rev int) (spec.Service, error) {
	if rs, ok := f.cachedRevision(service, rev); ok {
		return rs, nil
	}
	r, err := f.store.GetRevision(ctx, service, rev)
	if err != nil {
		return spec.Service{}, fmt.Errorf("revision %d of %s: %w", rev, service, err)
	}
	var rs spec.Service
	if err := json.Unmarshal(r.Spec, &rs); err != nil {
		return spec.Service{}, fmt.Errorf("decode revision %d of %s: %w", rev, service, err)
	}
	f.cacheRevision(service, rev, rs)
	return rs, nil
}
