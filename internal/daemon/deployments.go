package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// deploymentLauncher starts a controller goroutine for each deployment handed to it.
func (d *Daemon) deploymentLauncher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case dep := <-d.started:
			d.tasks.launch(func(ctx context.Context) { d.drive(ctx, dep) })
		}
	}
}

// activate registers a deployment as the service's active one and queues it for driving.
func (d *Daemon) activate(dep *rollout.Deployment) *activeDeployment {
	a := &activeDeployment{d: dep, wake: make(chan struct{}, 1), requests: make(chan rollout.Request), done: make(chan struct{})}
	d.fleet.mu.Lock()
	s := d.fleet.service(dep.Service)
	s.active = a
	if dep.Spec.Strategy.Type == spec.TypeCanary {
		s.canary = dep.State.To
	}
	d.fleet.mu.Unlock()
	d.started <- dep
	return a
}

func (d *Daemon) drive(ctx context.Context, dep *rollout.Deployment) {
	d.fleet.mu.Lock()
	a := d.fleet.service(dep.Service).active
	d.fleet.mu.Unlock()
	defer close(a.done)
	err := d.mig.BeforeStart(ctx, dep)
	if err == nil {
		err = d.ctrl.Drive(ctx, dep, a.wake, a.requests)
	}
	if err != nil {
		d.logger.Info("deployment parked", "service", dep.Service, "deployment_id", dep.ID, "step", dep.State.Phase)
		return
	}
	d.mig.AfterEnd(ctx, dep)
	d.fleet.mu.Lock()
	s := d.fleet.service(dep.Service)
	if s.active == a {
		s.active, s.canary = nil, 0
		d.applyTrafficLocked(s)
	}
	d.fleet.mu.Unlock()
}

// SaveState implements rollout.Recorder. A deployment that ends is recorded in the same
// transaction as its effect on the service (new stable revision, warm window of the old one).
func (d *Daemon) SaveState(ctx context.Context, dep *rollout.Deployment) error {
	raw, err := json.Marshal(dep.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	rec, err := d.store.GetDeployment(ctx, dep.ID)
	if err != nil {
		return err
	}
	rec.Status, rec.State, rec.Reason = string(dep.State.Status), raw, dep.State.Reason
	final := !dep.State.Status.Active()
	if final && rec.FinishedAt.IsZero() {
		rec.FinishedAt = time.Now().UTC()
	}
	if !final {
		return d.store.UpdateDeployment(ctx, rec)
	}
	succeeded := dep.State.Status == rollout.StatusSucceeded
	retire := d.retirements(dep)
	err = d.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateDeployment(ctx, rec); err != nil {
			return err
		}
		if !succeeded {
			return nil
		}
		if err := tx.SetStable(ctx, dep.Service, dep.State.To); err != nil {
			return err
		}
		for _, in := range retire {
			if err := tx.PutInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish deployment %d: %w", dep.ID, err)
	}
	if succeeded {
		d.promoted(ctx, dep, retire)
	}
	return nil
}

// retirements gives the old revision's instances of a succeeded blue-green deployment their
// end of the warm window; other strategies leave none behind.
func (d *Daemon) retirements(dep *rollout.Deployment) []store.Instance {
	if dep.State.Status != rollout.StatusSucceeded {
		return nil
	}
	delay := time.Duration(0)
	if bg := dep.Spec.Strategy.BlueGreen; bg != nil {
		delay = bg.ScaleDownDelay.D()
	}
	retireAt := time.Now().Add(delay).UTC()
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	var out []store.Instance
	for _, in := range d.fleet.service(dep.Service).instances {
		if in.rec.Revision != dep.State.To && !in.stopping {
			in.rec.RetireAt = retireAt
			out = append(out, in.rec)
		}
	}
	return out
}

// promoted updates the live view once a deployment succeeded and prunes old revisions.
func (d *Daemon) promoted(ctx context.Context, dep *rollout.Deployment, _ []store.Instance) {
	d.fleet.mu.Lock()
	s := d.fleet.service(dep.Service)
	s.stable = dep.State.To
	s.spec = dep.Spec
	s.weights = map[int]int{dep.State.To: 100}
	s.preview = 0
	d.applyTrafficLocked(s)
	d.fleet.mu.Unlock()
	d.prune(ctx, dep.Service, dep.ID)
}

// prune trims the service's history to revision_history_limit, keeping the stable revision
// and every revision that still has an instance. It runs at promotion and again when the
// last instance of an old revision is gone.
func (d *Daemon) prune(ctx context.Context, service string, deploymentID int64) {
	d.fleet.mu.Lock()
	s := d.fleet.service(service)
	limit := s.spec.RevisionHistoryLimit
	protect := []int{s.stable}
	for _, in := range s.instances {
		protect = append(protect, in.rec.Revision)
	}
	d.fleet.mu.Unlock()
	if limit <= 0 {
		return
	}
	removed, err := d.store.PruneRevisions(ctx, service, limit, protect)
	if err != nil {
		d.logger.Warn("prune revisions", "service", service, "error", err)
	} else if len(removed) > 0 {
		d.event(ctx, service, deploymentID, "revisions_pruned", fmt.Sprintf("revisions %v removed from history (revision_history_limit %d)", removed, limit), nil)
	}
}

// Event implements rollout.Recorder.
func (d *Daemon) Event(ctx context.Context, dep *rollout.Deployment, typ, message string, data map[string]any) {
	d.event(ctx, dep.Service, dep.ID, typ, message, data)
}

// event records one transition in the store and the log.
func (d *Daemon) event(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any) {
	var raw []byte
	if len(data) > 0 {
		raw, _ = json.Marshal(data)
	}
	if _, err := d.store.AddEvent(context.WithoutCancel(ctx), store.Event{Service: service, DeploymentID: deploymentID, Type: typ, Message: message, Data: raw}); err != nil {
		d.logger.Warn("record event", "service", service, "event", typ, "error", err)
	}
	d.logger.Info(typ, "service", service, "deployment_id", deploymentID, "message", message)
}

// revisionSpec returns a revision's spec, from the cache or the store.
func (d *Daemon) revisionSpec(ctx context.Context, service string, rev int) (spec.Service, error) {
	d.fleet.mu.Lock()
	rs, ok := d.fleet.service(service).revisions[rev]
	d.fleet.mu.Unlock()
	if ok {
		return rs, nil
	}
	r, err := d.store.GetRevision(ctx, service, rev)
	if err != nil {
		return spec.Service{}, fmt.Errorf("revision %d of %s: %w", rev, service, err)
	}
	if err := json.Unmarshal(r.Spec, &rs); err != nil {
		return spec.Service{}, fmt.Errorf("decode revision %d of %s: %w", rev, service, err)
	}
	d.fleet.mu.Lock()
	d.fleet.service(service).revisions[rev] = rs
	d.fleet.mu.Unlock()
	return rs, nil
}
