package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// reconcileLoop refreshes instance statuses from the runtime and keeps services without a
// running deployment at their desired state, every tick until ctx is done.
func (d *Daemon) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(d.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.refreshStatuses(ctx)
		d.reconcileServices(ctx)
	}
}

// refreshStatuses reads each instance's runtime status; an instance that stopped running
// leaves the proxy at once, without waiting for its readiness probe to notice.
func (d *Daemon) refreshStatuses(ctx context.Context) {
	type ref struct{ service, id string }
	var refs []ref
	d.fleet.mu.Lock()
	for _, s := range d.fleet.services {
		for id := range s.instances {
			refs = append(refs, ref{s.name, id})
		}
	}
	d.fleet.mu.Unlock()
	for _, r := range refs {
		st, err := d.driver.Status(ctx, r.id)
		if errors.Is(err, runtime.ErrNotFound) {
			st = runtime.Status{ID: r.id, State: runtime.StateExited, Message: "gone from the runtime"}
		} else if err != nil {
			continue
		}
		d.applyStatus(ctx, r.service, st)
	}
}

func (d *Daemon) applyStatus(ctx context.Context, service string, st runtime.Status) {
	d.fleet.mu.Lock()
	s := d.fleet.service(service)
	in := s.instances[st.ID]
	if in == nil {
		d.fleet.mu.Unlock()
		return
	}
	old := in.status
	in.status = st
	changedState := old.State != st.State
	changedAddr := old.Addr != st.Addr
	changedHealth := old.Health != st.Health
	down := st.State != runtime.StateRunning && st.State != runtime.StateStarting
	if down || st.Restarts != old.Restarts {
		// A process that went away or came back is a new process: readiness starts over.
		in.ready, in.readySince = false, time.Time{}
		if in.prober != nil && (changedState || st.Restarts != old.Restarts) {
			in.prober.Reset()
		}
		changedState = changedState || st.Restarts != old.Restarts
	}
	if changedAddr && in.prober != nil {
		rs := s.revisions[in.rec.Revision]
		in.prober.SetTarget(probeTarget(st.Addr, rs))
	}
	if changedState || changedAddr || changedHealth {
		d.applyTrafficLocked(s)
		s.wakeDeployment()
	}
	rec, stopping := in.rec, in.stopping
	d.fleet.mu.Unlock()
	if !changedState || stopping {
		return
	}
	switch st.State {
	case runtime.StateRestarting:
		d.event(ctx, service, rec.DeploymentID, "instance_crashed", fmt.Sprintf("instance %s exited: %s; restarting", st.ID, st.Message),
			map[string]any{"instance": st.ID, "restarts": st.Restarts})
	case runtime.StateCrashLoop:
		d.event(ctx, service, rec.DeploymentID, "instance_crash_loop", fmt.Sprintf("instance %s is crash-looping (%d restarts): %s", st.ID, st.Restarts, st.Message),
			map[string]any{"instance": st.ID, "restarts": st.Restarts})
	case runtime.StateExited:
		d.event(ctx, service, rec.DeploymentID, "instance_exited", fmt.Sprintf("instance %s exited: %s", st.ID, st.Message),
			map[string]any{"instance": st.ID})
	}
}

// reconcileServices keeps each service without a running deployment at its stable revision:
// missing instances are replaced, surplus ones and instances of other revisions (once their
// warm window is over) are stopped.
func (d *Daemon) reconcileServices(ctx context.Context) {
	type work struct {
		service string
		start   int
		stable  int
		stop    []string
	}
	var todo []work
	now := time.Now()
	d.fleet.mu.Lock()
	for _, s := range d.fleet.services {
		if s.active != nil || s.stable == 0 {
			continue
		}
		w := work{service: s.name, stable: s.stable}
		have := 0
		for _, in := range s.sortedInstances() {
			if in.stopping {
				continue
			}
			switch {
			case isBaseline(in.rec.ID):
				// A canary's baseline outlives no deployment.
				w.stop = append(w.stop, in.rec.ID)
			case in.rec.Revision != s.stable:
				if in.rec.RetireAt.IsZero() || now.After(in.rec.RetireAt) {
					w.stop = append(w.stop, in.rec.ID)
				}
			case in.status.State == runtime.StateExited:
				w.stop = append(w.stop, in.rec.ID)
			case have >= s.spec.Replicas:
				w.stop = append(w.stop, in.rec.ID)
			default:
				have++
			}
		}
		w.start = s.spec.Replicas - have
		if w.start > 0 || len(w.stop) > 0 {
			todo = append(todo, w)
		}
	}
	d.fleet.mu.Unlock()
	for _, w := range todo {
		if len(w.stop) > 0 {
			if err := d.Stop(ctx, w.service, w.stop); err != nil {
				d.logger.Warn("reconcile stop", "service", w.service, "error", err)
			}
		}
		if w.start > 0 {
			d.logger.Info("replacing instances", "service", w.service, "revision", w.stable, "count", w.start)
			if err := d.Start(ctx, w.service, w.stable, w.start, 0, false); err != nil {
				d.logger.Warn("reconcile start", "service", w.service, "error", err)
			}
		}
	}
}

// stopAll stops every instance, for a daemon told to leave nothing running.
func (d *Daemon) stopAll(ctx context.Context) {
	d.fleet.mu.Lock()
	byService := map[string][]string{}
	for _, s := range d.fleet.services {
		for id := range s.instances {
			byService[s.name] = append(byService[s.name], id)
		}
	}
	d.fleet.mu.Unlock()
	done := make(chan struct{})
	d.tasks.start(ctx)
	for svc, ids := range byService {
		if err := d.Stop(ctx, svc, ids); err != nil {
			d.logger.Warn("stop instances", "service", svc, "error", err)
		}
	}
	go func() { d.tasks.wait(); close(done) }()
	<-done
}
