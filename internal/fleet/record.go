package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/store"
)

// Recorder adapts the fleet and its store to rollout.Recorder and rollout.SwitchRecorder.
type Recorder struct {
	*parts
	sup *supervisor
}

// SaveState implements rollout.Recorder. A deployment that ends is recorded in the same
// transaction as its effect on the service (new stable revision, warm window of the old
// one), then the live view follows.
func (f Recorder) SaveState(ctx context.Context, dep *rollout.Deployment) error {
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
		f.view.promote(dep.Service, dep.State.To, dep.Spec)
		f.sup.prune(ctx, dep.Service, dep.ID)
	}
	return nil
}

// RecordSwitch implements rollout.SwitchRecorder: it records a warm switch, final from the
// start, before traffic moves: the
// deployment and the new stable revision (with its spec), in one small transaction. Then the
// live view follows: the revision that served gets its warm window, to becomes stable. It
// sets dep.ID.
func (f Recorder) RecordSwitch(ctx context.Context, dep *rollout.Deployment) error {
	raw, err := json.Marshal(dep.Spec)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	stateRaw, err := json.Marshal(dep.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	st := dep.State
	stored, err := f.store.BeginSwitch(ctx, store.Deployment{Service: dep.Service, Kind: "rollback", From: st.From, To: st.To,
		Strategy: st.Strategy, Status: string(st.Status), State: stateRaw, FinishedAt: st.SwitchedAt}, raw)
	if err != nil {
		return err
	}
	f.cfg.Crash.Reach("switch-record-after")
	dep.ID = stored.ID
	f.retirements(dep)
	f.view.setStable(dep.Service, st.To, dep.Spec)
	return nil
}

// SwitchDone implements rollout.SwitchRecorder: it records, after traffic moved, the rest of a warm switch in one transaction:
// the warm window of the revision that served and the switch's events.
func (f Recorder) SwitchDone(ctx context.Context, dep *rollout.Deployment, notes []rollout.Note) error {
	events := make([]store.Event, len(notes))
	for i, n := range notes {
		data, err := json.Marshal(n.Data)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", n.Type, err)
		}
		events[i] = store.Event{Service: dep.Service, DeploymentID: dep.ID, Type: n.Type, Message: n.Message, Data: data}
	}
	retire := f.view.retiring(dep.Service, dep.State.To)
	err := f.store.Tx(ctx, func(tx *store.Store) error {
		if err := putInstances(ctx, tx, retire); err != nil {
			return err
		}
		for _, e := range events {
			if _, err := tx.AddEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish switch %d: %w", dep.ID, err)
	}
	for _, n := range notes {
		f.logger.Info(n.Type, "service", dep.Service, "deployment_id", dep.ID, "message", n.Message)
	}
	return nil
}

func putInstances(ctx context.Context, tx *store.Store, ins []store.Instance) error {
	for _, in := range ins {
		if err := tx.Instances().Put(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// retirements gives the old revision's instances of a succeeded blue-green deployment (or
// warm switch) their end of the warm window; other strategies leave none behind.
func (f Recorder) retirements(dep *rollout.Deployment) []store.Instance {
	if dep.State.Status != rollout.StatusSucceeded {
		return nil
	}
	delay := time.Duration(0)
	if bg := dep.Spec.Strategy.BlueGreen; bg != nil {
		delay = bg.ScaleDownDelay.D()
	}
	return f.view.retire(dep.Service, dep.State.To, time.Now().Add(delay).UTC())
}

// prune trims the service's history to revision_history_limit, keeping the stable revision
// and every revision that still has an instance. It runs at promotion and again when the
// last instance of an old revision is gone.
func (f *supervisor) prune(ctx context.Context, service string, deploymentID int64) {
	limit, protect := f.view.history(service)
	if limit <= 0 {
		return
	}
	removed, err := f.store.PruneRevisions(ctx, service, limit, protect)
	if err != nil {
		f.logger.Warn("prune revisions", "service", service, "error", err)
	} else if len(removed) > 0 {
		f.events.Record(ctx, service, deploymentID, "revisions_pruned", fmt.Sprintf("revisions %v removed from history (revision_history_limit %d)", removed, limit), nil)
	}
}

// Event implements rollout.Recorder.
func (f Recorder) Event(ctx context.Context, dep *rollout.Deployment, typ, message string, data map[string]any) {
	f.events.Record(ctx, dep.Service, dep.ID, typ, message, data)
}
