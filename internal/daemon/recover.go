package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// recover rebuilds the live view after a start: routes, instances (adopted when still
// running, forgotten when gone, stopped when no record claims them), traffic to the
// instances last known ready, and the deployments that were running.
func (d *Daemon) recover(ctx context.Context) error {
	svcs, err := d.store.ListServices(ctx)
	if err != nil {
		return err
	}
	routes := make([]spec.Service, 0, len(svcs))
	for _, rec := range svcs {
		route, err := d.recoverService(ctx, rec)
		if err != nil {
			return err
		}
		routes = append(routes, route)
	}
	if err := d.recoverInstances(ctx); err != nil {
		return err
	}
	d.fleet.mu.Lock()
	for _, s := range d.fleet.services {
		if s.stable > 0 && s.readyCount(s.stable) > 0 {
			s.weights = map[int]int{s.stable: 100}
		}
		d.applyTrafficLocked(s)
	}
	d.fleet.mu.Unlock()
	// Listeners open only now, with their targets in place: a request that arrives while the
	// daemon recovers is refused (and retried by the client) rather than answered 503.
	for _, sp := range routes {
		if err := d.proxy.SetRoute(proxyRoute(sp)); err != nil {
			d.logger.Error("route unavailable", "service", sp.Name, "listen", sp.Route.Listen, "error", err)
		}
	}
	return d.resumeDeployments(ctx)
}

// recoverService restores a service's live view and returns the spec whose route it serves:
// the latest deployment's (it may be running).
func (d *Daemon) recoverService(ctx context.Context, rec store.Service) (spec.Service, error) {
	var latest spec.Service
	if err := json.Unmarshal(rec.Spec, &latest); err != nil {
		return spec.Service{}, fmt.Errorf("decode spec of %s: %w", rec.Name, err)
	}
	sp := latest
	if rec.Stable > 0 {
		stable, err := d.revisionSpec(ctx, rec.Name, rec.Stable)
		if err != nil {
			return spec.Service{}, err
		}
		sp = stable
	}
	d.fleet.mu.Lock()
	s := d.fleet.service(rec.Name)
	s.spec, s.stable = sp, rec.Stable
	d.fleet.mu.Unlock()
	return latest, nil
}

// recoverInstances adopts the recorded instances the runtime still runs, forgets the
// ones it does not and stops the ones no record claims. When the container runtime does not
// answer, container records are kept and tracked as unknown, and the orphan sweep of
// containers is retried in the background until it answers.
func (d *Daemon) recoverInstances(ctx context.Context) error {
	recs, err := d.store.ListInstances(ctx, "")
	if err != nil {
		return err
	}
	statuses, err := d.driver.List(ctx)
	var unavailable *runtime.UnavailableError
	if err != nil && !errors.As(err, &unavailable) {
		return fmt.Errorf("list instances: %w", err)
	}
	running := map[string]runtime.Status{}
	for _, st := range statuses {
		running[st.ID] = st
	}
	adopted, deferred := 0, 0
	for _, rec := range recs {
		st, ok := running[rec.ID]
		delete(running, rec.ID)
		rs, err := d.revisionSpec(ctx, rec.Service, rec.Revision)
		if err != nil {
			return err
		}
		if !ok && unavailable != nil && rs.Run.Image != "" {
			deferred++
			d.track(ctx, rec, rs)
			continue
		}
		if !ok || st.State == runtime.StateExited {
			if ok {
				_ = d.driver.Remove(ctx, rec.ID)
			}
			if err := d.store.DeleteInstance(ctx, rec.ID); err != nil {
				return err
			}
			continue
		}
		adopted++
		if err := d.adoptInstance(ctx, rec, rs); err != nil {
			return err
		}
	}
	d.stopOrphans(running)
	if adopted > 0 {
		d.logger.Info("instances adopted", "count", adopted)
	}
	if unavailable != nil {
		d.logger.Warn("container runtime unavailable; keeping container records and retrying", "instances", deferred, "error", unavailable.Err)
		d.tasks.launch(d.sweepContainersLater)
	}
	return nil
}

func (d *Daemon) adoptInstance(ctx context.Context, rec store.Instance, rs spec.Service) error {
	if err := d.driver.Adopt(ctx, []string{rec.ID}); err != nil {
		return fmt.Errorf("adopt %s: %w", rec.ID, err)
	}
	d.track(ctx, rec, rs)
	if rec.Desired == "stop" {
		return d.Stop(ctx, rec.Service, []string{rec.ID})
	}
	return nil
}

// stopOrphans stops the instances that no record claims.
func (d *Daemon) stopOrphans(orphans map[string]runtime.Status) {
	for id, st := range orphans {
		d.logger.Warn("stopping orphan instance", "instance", id, "service", st.Service)
		d.tasks.launch(func(ctx context.Context) {
			_ = d.driver.Adopt(ctx, []string{id})
			if err := d.driver.Stop(ctx, id); err == nil {
				_ = d.driver.Remove(ctx, id)
			}
		})
	}
}

// sweepContainersLater retries listing the runtime until the container runtime answers,
// then stops the instances no record claims. The tracked container instances need nothing
// more: refreshStatuses reads their state as soon as the runtime answers.
func (d *Daemon) sweepContainersLater(ctx context.Context) {
	t := time.NewTicker(d.opts.RetryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		statuses, err := d.driver.List(ctx)
		if err != nil {
			d.logger.Debug("container runtime still unavailable", "error", err)
			continue
		}
		recs, err := d.store.ListInstances(ctx, "")
		if err != nil {
			d.logger.Warn("list instance records", "error", err)
			continue
		}
		orphans := map[string]runtime.Status{}
		for _, st := range statuses {
			orphans[st.ID] = st
		}
		for _, rec := range recs {
			delete(orphans, rec.ID)
		}
		d.logger.Info("container runtime available again", "orphans", len(orphans))
		d.stopOrphans(orphans)
		return
	}
}

func (d *Daemon) resumeDeployments(ctx context.Context) error {
	active, err := d.store.ActiveDeployments(ctx)
	if err != nil {
		return err
	}
	for _, rec := range active {
		var st rollout.State
		if err := json.Unmarshal(rec.State, &st); err != nil {
			return fmt.Errorf("decode deployment %d: %w", rec.ID, err)
		}
		rs, err := d.revisionSpec(ctx, rec.Service, st.To)
		if err != nil {
			return err
		}
		dep := &rollout.Deployment{ID: rec.ID, Service: rec.Service, Spec: rs, State: st}
		d.event(ctx, rec.Service, rec.ID, "deployment_resumed", fmt.Sprintf("deployment %d resumed after a daemon restart at %q", rec.ID, st.Phase), nil)
		d.activate(dep)
	}
	return nil
}
