package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Recover rebuilds the live view after a start (or after Reset): routes, instances
// (adopted when still running, forgotten when gone, stopped when no record claims them) and
// traffic to the instances last known ready. The work it launches (probers, stops) starts
// with Run. The proxy's listeners open only at the end, with their targets in place: a
// request that arrives while the daemon recovers is refused (and retried by the client)
// rather than answered 503. Deployments that were running are the caller's to resume.
func (f *Fleet) Recover(ctx context.Context) error { return f.sup.recover(ctx) }

// recover is Recover.
func (f *supervisor) recover(ctx context.Context) error {
	svcs, err := f.store.ListServices(ctx)
	if err != nil {
		return err
	}
	routes := make([]spec.Service, 0, len(svcs))
	for _, rec := range svcs {
		route, err := f.recoverService(ctx, rec)
		if err != nil {
			return err
		}
		routes = append(routes, route)
	}
	if err := f.recoverInstances(ctx); err != nil {
		return err
	}
	f.view.restoreTraffic()
	for _, sp := range routes {
		if err := f.proxy.SetRoute(Route(sp)); err != nil {
			f.logger.Error("route unavailable", "service", sp.Name, "listen", sp.Route.Listen, "error", err)
		}
	}
	return nil
}

// recoverService restores a service's live view and returns the spec whose route it serves:
// the latest deployment's (it may be running).
func (f *supervisor) recoverService(ctx context.Context, rec store.Service) (spec.Service, error) {
	var latest spec.Service
	if err := json.Unmarshal(rec.Spec, &latest); err != nil {
		return spec.Service{}, fmt.Errorf("decode spec of %s: %w", rec.Name, err)
	}
	sp := latest
	if rec.Stable > 0 {
		stable, err := f.specs.get(ctx, rec.Name, rec.Stable)
		if err != nil {
			return spec.Service{}, err
		}
		sp = stable
	}
	f.view.setService(rec.Name, sp, rec.Stable)
	return latest, nil
}

// recoverInstances adopts the recorded instances the runtime still runs, forgets the
// ones it does not and stops the ones no record claims. When the container runtime does not
// answer, container records are kept and tracked as unknown, and the orphan sweep of
// containers is retried in the background until it answers.
func (f *supervisor) recoverInstances(ctx context.Context) error {
	recs, err := f.store.Instances().List(ctx, "")
	if err != nil {
		return err
	}
	statuses, err := f.rt.List(ctx)
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
		rs, err := f.specs.get(ctx, rec.Service, rec.Revision)
		if err != nil {
			return err
		}
		if !ok && unavailable != nil && rs.Run.Image != "" {
			deferred++
			f.track(ctx, rec, rs, nil)
			continue
		}
		if !ok || st.State == runtime.StateExited {
			if ok {
				_ = f.rt.Remove(ctx, rec.ID)
			}
			if err := f.store.Instances().Delete(ctx, rec.ID); err != nil {
				return err
			}
			continue
		}
		adopted++
		if err := f.adoptInstance(ctx, rec, rs); err != nil {
			return err
		}
	}
	f.stopOrphans(running)
	if adopted > 0 {
		f.logger.Info("instances adopted", "count", adopted)
	}
	if unavailable != nil {
		f.logger.Warn("container runtime unavailable; keeping container records and retrying", "instances", deferred, "error", unavailable.Err)
		f.tasks.launch(f.sweepContainersLater)
	}
	return nil
}

func (f *supervisor) adoptInstance(ctx context.Context, rec store.Instance, rs spec.Service) error {
	if err := f.rt.Adopt(ctx, []string{rec.ID}); err != nil {
		return fmt.Errorf("adopt %s: %w", rec.ID, err)
	}
	f.track(ctx, rec, rs, nil)
	if rec.Desired == "stop" {
		return f.stop(ctx, rec.Service, []string{rec.ID})
	}
	return nil
}

// stopOrphans stops the instances that no record claims.
func (f *supervisor) stopOrphans(orphans map[string]runtime.Status) {
	for id, st := range orphans {
		f.logger.Warn("stopping orphan instance", "instance", id, "service", st.Service)
		f.tasks.launch(func(ctx context.Context) {
			_ = f.rt.Adopt(ctx, []string{id})
			if err := f.rt.Stop(ctx, id); err == nil {
				_ = f.rt.Remove(ctx, id)
			}
		})
	}
}

// sweepContainersLater retries listing the runtime until the container runtime answers,
// then stops the instances no record claims. The tracked container instances need nothing
// more: refreshStatuses reads their state as soon as the runtime answers.
func (f *supervisor) sweepContainersLater(ctx context.Context) {
	t := time.NewTicker(f.cfg.RetryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		statuses, err := f.rt.List(ctx)
		if err != nil {
			f.logger.Debug("container runtime still unavailable", "error", err)
			continue
		}
		recs, err := f.store.Instances().List(ctx, "")
		if err != nil {
			f.logger.Warn("list instance records", "error", err)
			continue
		}
		orphans := map[string]runtime.Status{}
		for _, st := range statuses {
			orphans[st.ID] = st
		}
		for _, rec := range recs {
			delete(orphans, rec.ID)
		}
		f.logger.Info("container runtime available again", "orphans", len(orphans))
		f.stopOrphans(orphans)
		return
	}
}
