package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/explain"
	"github.com/cutover/cutover/internal/runtime"
)

// reconcileLoop refreshes instance statuses from the runtime and keeps services without a
// running deployment at their desired state, every tick until ctx is done.
func (f *supervisor) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(f.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.refreshStatuses(ctx)
		f.reconcileServices(ctx)
	}
}

// refreshStatuses reads each instance's runtime status; an instance that stopped running
// leaves the proxy at once, without waiting for its readiness probe to notice.
func (f *supervisor) refreshStatuses(ctx context.Context) {
	for _, r := range f.view.instanceRefs() {
		st, err := f.rt.Status(ctx, r.id)
		if errors.Is(err, runtime.ErrNotFound) {
			st = runtime.Status{ID: r.id, State: runtime.StateExited, Message: "gone from the runtime"}
		} else if err != nil {
			continue
		}
		f.applyStatus(ctx, r.service, st)
	}
}

// applyStatus takes in a runtime status and records the events of a changed state.
func (f *supervisor) applyStatus(ctx context.Context, service string, st runtime.Status) {
	// An instance going down is explained before the deployment can see it down.
	tail := ""
	if rev, state, ok := f.view.stateOf(service, st.ID); ok && state != st.State &&
		(st.State == runtime.StateCrashLoop || st.State == runtime.StateExited) {
		tail = f.outputTail(ctx, service, rev, st.ID)
		f.view.setOutput(service, st.ID, tail)
	}
	rec, changed := f.view.setStatus(service, st)
	if !changed {
		return
	}
	switch st.State {
	case runtime.StateRestarting:
		f.events.Record(ctx, service, rec.DeploymentID, "instance_crashed", fmt.Sprintf("instance %s exited: %s; restarting", st.ID, st.Message),
			map[string]any{"instance": st.ID, "restarts": st.Restarts})
	case runtime.StateCrashLoop:
		f.events.Record(ctx, service, rec.DeploymentID, "instance_crash_loop", fmt.Sprintf("instance %s is crash-looping (%d restarts): %s", st.ID, st.Restarts, explain.Message(st.Message, tail)),
			map[string]any{"instance": st.ID, "restarts": st.Restarts})
	case runtime.StateExited:
		f.events.Record(ctx, service, rec.DeploymentID, "instance_exited", fmt.Sprintf("instance %s exited: %s", st.ID, explain.Message(st.Message, tail)),
			map[string]any{"instance": st.ID})
	}
}

// outputTail is the redacted end of an instance's output, for the message that says why it
// failed (explain.Tail).
func (f *supervisor) outputTail(ctx context.Context, service string, rev int, id string) string {
	rs, err := f.specs.get(ctx, service, rev)
	if err != nil {
		return ""
	}
	return explain.Tail(ctx, f.rt, id, f.cfg.Secrets(rs))
}

// reconcileWork is what reconcileServices does for one service.
type reconcileWork struct {
	service string
	start   int
	stable  int
	stop    []string
}

// reconcileServices keeps each service without a running deployment at its stable revision:
// missing instances are replaced, surplus ones and instances of other revisions (once their
// warm window is over) are stopped.
func (f *supervisor) reconcileServices(ctx context.Context) {
	for _, w := range f.view.reconcilePlan(time.Now()) {
		if len(w.stop) > 0 {
			if err := f.stop(ctx, w.service, w.stop); err != nil {
				f.logger.Warn("reconcile stop", "service", w.service, "error", err)
			}
		}
		if w.start > 0 {
			f.logger.Info("replacing instances", "service", w.service, "revision", w.stable, "count", w.start)
			if err := f.start(ctx, w.service, w.stable, w.start, 0, false); err != nil {
				f.logger.Warn("reconcile start", "service", w.service, "error", err)
			}
		}
	}
}

// planService decides what keeps s at its stable revision at now. The view's lock is held.
func planService(s *service, now time.Time) reconcileWork {
	w := reconcileWork{service: s.name, stable: s.stable}
	have := 0
	for _, in := range s.sortedInstances() {
		if in.stopping {
			continue
		}
		switch {
		case IsBaseline(in.rec.ID):
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
	return w
}
