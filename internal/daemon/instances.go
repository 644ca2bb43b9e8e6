package daemon

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
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Observe implements rollout.Instances.
func (d *Daemon) Observe(_ context.Context, service string) ([]rollout.Instance, error) {
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	s := d.fleet.service(service)
	var out []rollout.Instance
	for _, in := range s.sortedInstances() {
		if in.stopping {
			continue
		}
		out = append(out, rollout.Instance{
			ID:         in.rec.ID,
			Revision:   in.rec.Revision,
			Ready:      in.serving(),
			ReadySince: in.readySince,
			CrashLoop:  in.status.State == runtime.StateCrashLoop,
			Failed:     in.status.State == runtime.StateExited,
			Message:    in.status.Message,
			StartedAt:  in.rec.CreatedAt,
			Baseline:   isBaseline(in.rec.ID),
		})
	}
	return out, nil
}

// Start implements rollout.Instances: each instance is recorded before it is started, so a
// crash in between leaves a record that recovery resolves, never an unknown process. A
// baseline instance is told apart by its ID (see isBaseline).
func (d *Daemon) Start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error {
	rs, err := d.revisionSpec(ctx, service, revision)
	if err != nil {
		return err
	}
	specs := make([]runtime.InstanceSpec, 0, count)
	recs := make([]store.Instance, 0, count)
	for range count {
		rec := store.Instance{ID: newInstanceID(service, revision, baseline), Service: service, Revision: revision,
			DeploymentID: deploymentID, Desired: "run", CreatedAt: time.Now().UTC()}
		if err := d.store.PutInstance(ctx, rec); err != nil {
			return fmt.Errorf("record instance %s: %w", rec.ID, err)
		}
		recs = append(recs, rec)
		specs = append(specs, instanceSpec(rec, rs))
	}
	startErr := d.driver.Start(ctx, specs)
	for _, rec := range recs {
		d.track(ctx, rec, rs)
		d.event(ctx, service, deploymentID, "instance_started", fmt.Sprintf("instance %s of revision %d started", rec.ID, revision),
			map[string]any{"instance": rec.ID, "revision": revision})
	}
	if startErr != nil {
		return fmt.Errorf("start: %w", startErr)
	}
	return nil
}

// track registers an instance in the fleet and starts its prober.
func (d *Daemon) track(ctx context.Context, rec store.Instance, rs spec.Service) {
	st, err := d.driver.Status(ctx, rec.ID)
	if err != nil && !errors.Is(err, runtime.ErrNotFound) {
		d.logger.Warn("instance status", "instance", rec.ID, "error", err)
	}
	in := &instance{rec: rec, status: st, live: true, ready: rec.Ready, readySince: rec.ReadySince}
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		in.status = runtime.Status{ID: rec.ID, State: runtime.StateExited, Message: err.Error()}
	case err != nil:
		// The runtime did not answer: the instance may well run; refreshStatuses learns
		// its state once the runtime answers. Without an address it gets no traffic.
		in.status = runtime.Status{ID: rec.ID, State: runtime.StateStarting, Message: err.Error()}
	}
	in.prober = health.NewProber(rs.Probes, probeTarget(in.status.Addr, rs), d.logger.With("component", "health", "instance", rec.ID))
	d.fleet.mu.Lock()
	s := d.fleet.service(rec.Service)
	s.instances[rec.ID] = in
	d.applyTrafficLocked(s)
	d.fleet.mu.Unlock()
	d.tasks.launch(func(ctx context.Context) {
		pctx, cancel := context.WithCancel(ctx)
		d.fleet.mu.Lock()
		in.stopProbe = cancel
		stopping := in.stopping
		d.fleet.mu.Unlock()
		if stopping {
			cancel()
			return
		}
		in.prober.Run(pctx, func(r health.Result) { d.onHealth(ctx, rec.Service, rec.ID, r) })
	})
	if rec.Ready {
		d.tasks.launch(func(ctx context.Context) { d.confirmReady(ctx, rec.Service, rec.ID, readinessWindow(rs)) })
	}
}

// confirmReady handles an instance adopted as ready from the record: if its prober has not
// confirmed readiness within the window, it leaves the proxy until it does.
func (d *Daemon) confirmReady(ctx context.Context, service, id string, window time.Duration) {
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	s := d.fleet.service(service)
	in := s.instances[id]
	if in == nil || in.confirmed || !in.ready {
		return
	}
	in.ready = false
	d.applyTrafficLocked(s)
	s.wakeDeployment()
}

// readinessWindow is how long a ready instance's prober may take to say so again.
func readinessWindow(rs spec.Service) time.Duration {
	p := rs.Probes.Readiness
	if p == nil {
		p = rs.Probes.Startup
	}
	if p == nil {
		return 5 * time.Second
	}
	return p.InitialDelay.D() + time.Duration(p.SuccessThreshold+p.FailureThreshold)*(p.Period.D()+p.Timeout.D())
}

// onHealth applies a prober's report. An instance that stops being ready leaves the proxy at
// once, then the change is recorded; one that becomes ready is recorded first (with its
// event, in one transaction), then gets traffic: the record never claims less than the proxy
// does, and events keep their order. A liveness failure restarts the instance.
func (d *Daemon) onHealth(ctx context.Context, service, id string, r health.Result) {
	d.fleet.mu.Lock()
	s := d.fleet.service(service)
	in := s.instances[id]
	if in == nil || in.stopping {
		d.fleet.mu.Unlock()
		return
	}
	wasReady := in.ready
	if wasReady && !in.confirmed && !r.Ready && r.Live && r.Message == "" {
		// The prober's first report of an adopted instance: keep it serving as last known
		// until a probe says otherwise (confirmReady bounds the wait).
		d.fleet.mu.Unlock()
		return
	}
	in.live, in.message = r.Live, r.Message
	in.confirmed = in.confirmed || r.Ready
	rec := in.rec
	rec.Ready, rec.ReadySince = r.Ready, in.readySince
	if r.Ready && !wasReady {
		rec.ReadySince = r.ReadySince
		if rec.ReadySince.IsZero() {
			rec.ReadySince = time.Now()
		}
	}
	if !r.Ready && wasReady {
		in.ready, in.rec = false, rec
		d.applyTrafficLocked(s)
	}
	d.fleet.mu.Unlock()

	if wasReady != r.Ready {
		d.recordReadiness(ctx, rec, r)
	}
	if r.Ready && !wasReady {
		d.fleet.mu.Lock()
		if cur := s.instances[id]; cur == in && !in.stopping {
			in.ready, in.readySince, in.rec = true, rec.ReadySince, rec
			d.applyTrafficLocked(s)
		}
		d.fleet.mu.Unlock()
	}
	d.fleet.mu.Lock()
	s.wakeDeployment()
	d.fleet.mu.Unlock()
	if !r.Live {
		d.event(ctx, service, rec.DeploymentID, "instance_restarted", fmt.Sprintf("instance %s failed liveness, restarting: %s", id, r.Message),
			map[string]any{"instance": id})
		d.tasks.launch(func(ctx context.Context) {
			if err := d.driver.Restart(ctx, id); err != nil {
				d.logger.Warn("restart instance", "instance", id, "error", err)
			}
			in.prober.Reset()
		})
	}
}

// recordReadiness stores an instance's readiness and its event in one transaction.
func (d *Daemon) recordReadiness(ctx context.Context, rec store.Instance, r health.Result) {
	typ, msg := "instance_ready", fmt.Sprintf("instance %s is ready", rec.ID)
	if !r.Ready {
		typ, msg = "instance_unready", fmt.Sprintf("instance %s is not ready: %s", rec.ID, r.Message)
	}
	data, _ := json.Marshal(map[string]any{"instance": rec.ID, "revision": rec.Revision})
	err := d.store.Tx(context.WithoutCancel(ctx), func(tx *store.Store) error {
		if err := tx.PutInstance(ctx, rec); err != nil {
			return err
		}
		_, err := tx.AddEvent(ctx, store.Event{Service: rec.Service, DeploymentID: rec.DeploymentID, Type: typ, Message: msg, Data: data})
		return err
	})
	if err != nil {
		d.logger.Warn("record instance readiness", "instance", rec.ID, "error", err)
		return
	}
	d.logger.Info(typ, "service", rec.Service, "deployment_id", rec.DeploymentID, "message", msg)
}

// Stop implements rollout.Instances: the instances leave the proxy at once; draining and
// stopping go on in the background.
func (d *Daemon) Stop(ctx context.Context, service string, ids []string) error {
	d.fleet.mu.Lock()
	s := d.fleet.service(service)
	var recs []store.Instance
	for _, id := range ids {
		in := s.instances[id]
		if in == nil || in.stopping {
			continue
		}
		in.stopping = true
		in.rec.Desired = "stop"
		recs = append(recs, in.rec)
	}
	d.applyTrafficLocked(s)
	d.fleet.mu.Unlock()
	for _, rec := range recs {
		if err := d.store.PutInstance(ctx, rec); err != nil {
			return fmt.Errorf("record stop of %s: %w", rec.ID, err)
		}
		d.tasks.launch(func(ctx context.Context) { d.finishStop(ctx, rec) })
	}
	return nil
}

// finishStop drains an instance that left the proxy, stops it and forgets it.
func (d *Daemon) finishStop(ctx context.Context, rec store.Instance) {
	rs, err := d.revisionSpec(ctx, rec.Service, rec.Revision)
	drain := 30 * time.Second
	if err == nil {
		drain = rs.Route.DrainTimeout.D()
	}
	if err := d.proxy.Drain(ctx, rec.ID, drain); err != nil {
		d.logger.Warn("drain instance", "instance", rec.ID, "error", err)
	}
	d.fleet.mu.Lock()
	if in := d.fleet.service(rec.Service).instances[rec.ID]; in != nil && in.stopProbe != nil {
		in.stopProbe()
	}
	d.fleet.mu.Unlock()
	// The stop must finish even while the daemon shuts down: it is bounded by stop_grace.
	stopCtx := context.WithoutCancel(ctx)
	if err := d.driver.Stop(stopCtx, rec.ID); err != nil {
		d.logger.Warn("stop instance", "instance", rec.ID, "error", err)
		return
	}
	if err := d.driver.Remove(stopCtx, rec.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		d.logger.Warn("remove instance", "instance", rec.ID, "error", err)
	}
	if err := d.store.DeleteInstance(stopCtx, rec.ID); err != nil {
		d.logger.Warn("forget instance", "instance", rec.ID, "error", err)
		return
	}
	d.fleet.mu.Lock()
	s := d.fleet.service(rec.Service)
	delete(s.instances, rec.ID)
	s.wakeDeployment()
	lastOfOld := rec.Revision != s.stable && s.active == nil
	for _, in := range s.instances {
		lastOfOld = lastOfOld && in.rec.Revision != rec.Revision
	}
	d.fleet.mu.Unlock()
	if lastOfOld {
		d.prune(stopCtx, rec.Service, rec.DeploymentID)
	}
	d.event(stopCtx, rec.Service, rec.DeploymentID, "instance_stopped", fmt.Sprintf("instance %s of revision %d stopped", rec.ID, rec.Revision),
		map[string]any{"instance": rec.ID, "revision": rec.Revision})
}

func instanceSpec(rec store.Instance, rs spec.Service) runtime.InstanceSpec {
	is := runtime.InstanceSpec{
		ID: rec.ID, Service: rec.Service, Revision: rec.Revision,
		Command: rs.Run.Command, Args: rs.Run.Args, Env: rs.Run.Env, Dir: rs.Run.Dir, Image: rs.Run.Image,
		StopGrace: rs.StopGrace.D(),
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
	return o
}

func probeTarget(addr string, rs spec.Service) health.Target {
	return health.Target{Addr: addr, Env: rs.Run.Env, Dir: rs.Run.Dir, Redact: newRedactor(secretValues(rs)).redact}
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

// isBaseline reports whether id names a canary's baseline instance: its last part is "b"
// and 6 hex digits (an ordinary instance's is the 6 hex digits alone).
func isBaseline(id string) bool {
	i := strings.LastIndexByte(id, '-')
	suffix := id[i+1:]
	if len(suffix) != 7 || suffix[0] != 'b' {
		return false
	}
	_, err := hex.DecodeString(suffix[1:])
	return err == nil
}
