package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// supervisor starts, probes, drains, stops, reconciles and adopts instances: the slow part
// of the fleet's work, done with the view's lock released.
type supervisor struct{ *parts }

// start creates count instances of a revision. Each instance is recorded before it is
// started, so a crash in between leaves a record that recovery resolves, never an unknown
// process. A baseline instance is told apart by its ID (see IsBaseline).
func (f *supervisor) start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error {
	rs, err := f.specs.get(ctx, service, revision)
	if err != nil {
		return err
	}
	specs := make([]runtime.InstanceSpec, 0, count)
	recs := make([]store.Instance, 0, count)
	for range count {
		rec := store.Instance{ID: newInstanceID(service, revision, baseline), Service: service, Revision: revision,
			DeploymentID: deploymentID, Desired: "run", CreatedAt: time.Now().UTC()}
		recs = append(recs, rec)
		specs = append(specs, InstanceSpec(rec, rs))
	}
	// One commit for the batch, not waited for on disk: the spawn follows at once, and the
	// events below (synced commits) make the records durable before anyone hears of them.
	f.cfg.Crash.Reach("instance-record-before")
	if err := f.store.Instances().PutBeforeStart(ctx, recs); err != nil {
		return fmt.Errorf("record instances %s…: %w", recs[0].ID, err)
	}
	f.cfg.Crash.Reach("instance-record-after")
	startErr := f.rt.Start(ctx, specs)
	for _, rec := range recs {
		if !f.track(ctx, rec, rs, startErr) {
			continue // never started: no event says it did
		}
		f.events.Record(ctx, service, deploymentID, "instance_started", fmt.Sprintf("instance %s of revision %d started", rec.ID, revision),
			map[string]any{"instance": rec.ID, "revision": revision})
	}
	if startErr != nil {
		return fmt.Errorf("start: %w", startErr)
	}
	return nil
}

// track registers an instance in the fleet and launches its prober, and reports whether
// the runtime knows the instance. One it does not know is exited; startErr, when not nil,
// is why (the runtime's Start failed, a full disk say), and becomes its message, so that
// the deployment's reason names the cause.
func (f *supervisor) track(ctx context.Context, rec store.Instance, rs spec.Service, startErr error) bool {
	st, err := f.rt.Status(ctx, rec.ID)
	if err != nil && !errors.Is(err, runtime.ErrNotFound) {
		f.logger.Warn("instance status", "instance", rec.ID, "error", err)
	}
	in := &instance{rec: rec, status: st, live: true, ready: rec.Ready, readySince: rec.ReadySince}
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		msg := err.Error()
		if startErr != nil {
			msg = "not started: " + startErr.Error()
		}
		in.status = runtime.Status{ID: rec.ID, State: runtime.StateExited, Message: msg}
	case err != nil:
		// The runtime did not answer: the instance may well run; refreshStatuses learns
		// its state once the runtime answers. Without an address it gets no traffic.
		in.status = runtime.Status{ID: rec.ID, State: runtime.StateStarting, Message: err.Error()}
	}
	in.prober = f.cfg.Probers(rs.Probes, probeTarget(f.cfg, in.status.Reach(), rs), f.logger.With("component", "health", "instance", rec.ID))
	f.view.add(in)
	f.tasks.launch(func(ctx context.Context) {
		pctx, cancel := context.WithCancel(ctx)
		if stopping := f.view.setStopProbe(in, cancel); stopping {
			cancel()
			return
		}
		in.prober.Run(pctx, func(r health.Result) { f.onHealth(ctx, rec.Service, rec.ID, r) })
	})
	if rec.Ready {
		window := f.readinessWindow(rs)
		f.tasks.launch(func(ctx context.Context) { f.confirmReady(ctx, rec.Service, rec.ID, window) })
	}
	return !errors.Is(err, runtime.ErrNotFound)
}

// confirmReady handles an instance adopted as ready from the record: if its prober has not
// confirmed readiness within the window, it leaves the proxy until it does.
func (f *supervisor) confirmReady(ctx context.Context, service, id string, window time.Duration) {
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	f.view.unconfirmed(service, id)
}

// readinessWindow is how long a ready instance's prober may take to say so again.
func (f *supervisor) readinessWindow(rs spec.Service) time.Duration {
	p := rs.Probes.Readiness
	if p == nil {
		p = rs.Probes.Startup
	}
	if p == nil {
		return f.cfg.ReadinessWindow
	}
	return p.InitialDelay.D() + time.Duration(p.SuccessThreshold+p.FailureThreshold)*(p.Period.D()+p.Timeout.D())
}

// onHealth applies a prober's report. An instance that stops being ready leaves the proxy at
// once, then the change is recorded; one that becomes ready is recorded first (with its
// event, in one transaction), then gets traffic: the record never claims less than the proxy
// does, and events keep their order. A liveness failure restarts the instance.
func (f *supervisor) onHealth(ctx context.Context, service, id string, r health.Result) {
	in, rec, wasReady, ok := f.view.takeReport(service, id, r)
	if !ok {
		return
	}
	if wasReady != r.Ready {
		f.recordReadiness(ctx, rec, r)
	}
	if r.Ready && !wasReady {
		f.view.markReady(service, in, rec)
	}
	f.view.wake(service)
	if !r.Live {
		f.events.Record(ctx, service, rec.DeploymentID, "instance_restarted", fmt.Sprintf("instance %s failed liveness, restarting: %s", id, r.Message),
			map[string]any{"instance": id})
		f.tasks.launch(func(ctx context.Context) {
			if err := f.rt.Restart(ctx, id); err != nil {
				f.logger.Warn("restart instance", "instance", id, "error", err)
			}
			in.prober.Reset()
		})
	}
}

// recordReadiness stores an instance's readiness and its event in one transaction.
func (f *supervisor) recordReadiness(ctx context.Context, rec store.Instance, r health.Result) {
	typ, msg := "instance_ready", fmt.Sprintf("instance %s is ready", rec.ID)
	if !r.Ready {
		typ, msg = "instance_unready", fmt.Sprintf("instance %s is not ready: %s", rec.ID, r.Message)
	}
	data, err := json.Marshal(map[string]any{"instance": rec.ID, "revision": rec.Revision})
	if err != nil {
		f.logger.Warn("record instance readiness", "instance", rec.ID, "error", err)
		return
	}
	err = f.store.Tx(context.WithoutCancel(ctx), func(tx *store.Store) error {
		if err := tx.Instances().Put(ctx, rec); err != nil {
			return err
		}
		_, err := tx.AddEvent(ctx, store.Event{Service: rec.Service, DeploymentID: rec.DeploymentID, Type: typ, Message: msg, Data: data})
		return err
	})
	if err != nil {
		f.logger.Warn("record instance readiness", "instance", rec.ID, "error", err)
		return
	}
	f.logger.Info(typ, "service", rec.Service, "deployment_id", rec.DeploymentID, "message", msg)
}

// stop takes the instances out of the proxy at once; draining and stopping go on in the
// background.
func (f *supervisor) stop(ctx context.Context, service string, ids []string) error {
	for _, rec := range f.view.markStopping(service, ids) {
		f.cfg.Crash.Reach("instance-stop-record-before")
		if err := f.store.Instances().Put(ctx, rec); err != nil {
			return fmt.Errorf("record stop of %s: %w", rec.ID, err)
		}
		f.cfg.Crash.Reach("instance-stop-record-after")
		f.tasks.launch(func(ctx context.Context) { f.finishStop(ctx, rec) })
	}
	return nil
}

// finishStop drains an instance that left the proxy, stops it and forgets it.
func (f *supervisor) finishStop(ctx context.Context, rec store.Instance) {
	rs, err := f.specs.get(ctx, rec.Service, rec.Revision)
	drain := f.cfg.DrainTimeout
	if err == nil {
		drain = rs.Route.DrainTimeout.D()
	}
	if err := f.proxy.Drain(ctx, rec.ID, drain); err != nil {
		f.logger.Warn("drain instance", "instance", rec.ID, "error", err)
	}
	f.view.stopProbing(rec.Service, rec.ID)
	// The stop must finish even while the daemon shuts down: it is bounded by stop_grace.
	stopCtx := context.WithoutCancel(ctx)
	if err := f.rt.Stop(stopCtx, rec.ID); err != nil {
		f.logger.Warn("stop instance", "instance", rec.ID, "error", err)
		return
	}
	if err := f.rt.Remove(stopCtx, rec.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		f.logger.Warn("remove instance", "instance", rec.ID, "error", err)
	}
	f.cfg.Crash.Reach("instance-forget-before")
	if err := f.store.Instances().Delete(stopCtx, rec.ID); err != nil {
		f.logger.Warn("forget instance", "instance", rec.ID, "error", err)
		return
	}
	f.cfg.Crash.Reach("instance-forget-after")
	if lastOfOld := f.view.forget(rec); lastOfOld {
		f.prune(stopCtx, rec.Service, rec.DeploymentID)
	}
	f.events.Record(stopCtx, rec.Service, rec.DeploymentID, "instance_stopped", fmt.Sprintf("instance %s of revision %d stopped", rec.ID, rec.Revision),
		map[string]any{"instance": rec.ID, "revision": rec.Revision})
}

// Check reports, without starting anything, whether the runtime could start an instance of
// s: its command or image exists, the runtime answers.
func (f *Fleet) Check(ctx context.Context, s spec.Service) error {
	return f.rt.Check(ctx, InstanceSpec(store.Instance{ID: s.Name + "-check", Service: s.Name}, s))
}

// InstanceSpec is what the runtime runs for the instance rec of a revision whose spec is rs.
func InstanceSpec(rec store.Instance, rs spec.Service) runtime.InstanceSpec {
	is := runtime.InstanceSpec{
		ID: rec.ID, Service: rec.Service, Revision: rec.Revision,
		Command: rs.Run.Command, Args: rs.Run.Args, Env: rs.Run.Env, Dir: rs.Run.Dir, Image: rs.Run.Image,
		StopGrace: rs.StopGrace.D(), Runtime: rs.Run.Runtime,
	}
	if c := rs.Run.Container; c != nil && rs.Run.Image != "" {
		is.Port = c.Port
		is.Container = containerOptions(c)
	}
	return is
}

// containerOptions maps a spec's container section onto the runtime's (validated already).
func containerOptions(c *spec.Container) *runtime.ContainerOptions {
	o := &runtime.ContainerOptions{User: c.User, NanoCPUs: int64(c.CPUs * 1e9), ReadOnlyRootFS: c.ReadOnly}
	if c.Memory != "" {
		o.MemoryBytes, _ = spec.ParseBytes(c.Memory)
	}
	if h := c.Healthcheck; h != nil {
		o.Healthcheck = &runtime.Healthcheck{Test: h.Test, Interval: h.Interval.D(), Timeout: h.Timeout.D(),
			StartPeriod: h.StartPeriod.D(), Retries: h.Retries}
	}
	o.ExtraHosts = c.Hosts
	for _, n := range c.Networks {
		o.Networks = append(o.Networks, runtime.NetworkAttachment{Name: n.Name, Aliases: n.Aliases})
	}
	for _, m := range c.Mounts {
		rm := runtime.Mount{Volume: m.Volume != "", Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Volume != "" {
			rm.Source = m.Volume
		}
		o.Mounts = append(o.Mounts, rm)
	}
	return o
}

// probeTarget is what an instance's probes reach: its address, its revision's env and
// directory (exec probes), and what hides that revision's secrets in their reports.
func probeTarget(cfg Config, addr string, rs spec.Service) health.Target {
	return health.Target{Addr: addr, Env: rs.Run.Env, Dir: rs.Run.Dir, Redact: cfg.Secrets(rs)}
}

// newInstanceID names a new instance <service>-<revision>-<6 hex digits>, or
// <service>-<revision>-b<6 hex digits> for a canary's baseline instance.
func newInstanceID(service string, revision int, baseline bool) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	mark := ""
	if baseline {
		mark = "b"
	}
	return fmt.Sprintf("%s-%d-%s%s", service, revision, mark, hex.EncodeToString(b[:]))
}

// IsBaseline reports whether id names a canary's baseline instance: its last part is "b"
// and 6 hex digits (an ordinary instance's is the 6 hex digits alone).
func IsBaseline(id string) bool {
	i := strings.LastIndexByte(id, '-')
	suffix := id[i+1:]
	if len(suffix) != 7 || suffix[0] != 'b' {
		return false
	}
	_, err := hex.DecodeString(suffix[1:])
	return err == nil
}
