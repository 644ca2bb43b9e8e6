package fleet

import (
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// view is the live view of every service and instance, and the proxy's table built from
// it. Its lock is taken in this file only.
type view struct {
	mu       sync.Mutex
	services serviceMap

	proxy  Proxy
	store  Store
	logger *slog.Logger
	tasks  *tasks
	specs  *specs
	// probeTarget is what an instance's probes reach at addr.
	probeTarget func(addr string, rs spec.Service) health.Target
}

// This file is the only one that takes the view's lock. Each function is one short
// critical section: it reads or changes the live view, hands the proxy a new table when
// traffic changes, and returns what its caller needs to do the slow part (I/O, waiting)
// with the lock released.

// serviceMap is the live view's services by name.
type serviceMap map[string]*service

// get returns the named service's state, created empty if unknown. The lock is held.
func (m serviceMap) get(name string) *service {
	s := m[name]
	if s == nil {
		s = newService(name)
		m[name] = s
	}
	return s
}

// reset forgets the live view.
func (v *view) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.services)
}

// setService restores a recovered service's spec and stable revision.
func (v *view) setService(name string, sp spec.Service, stable int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(name)
	s.spec, s.stable = sp, stable
}

// restoreTraffic sends each recovered service's traffic to its stable revision when one of
// its instances is known ready, else to whatever is ready.
func (v *view) restoreTraffic() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.services {
		if s.stable > 0 && s.readyCount(s.stable) > 0 {
			s.weights = map[int]int{s.stable: 100}
		}
		v.applyTraffic(s)
	}
}

// add registers a new instance and updates the service's traffic.
func (v *view) add(in *instance) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(in.rec.Service)
	s.instances[in.rec.ID] = in
	v.applyTraffic(s)
}

// setStopProbe keeps the function that stops in's prober and reports whether in is already
// being stopped (its prober must not run).
func (v *view) setStopProbe(in *instance, cancel func()) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	in.stopProbe = cancel
	return in.stopping
}

// stopProbing stops an instance's prober.
func (v *view) stopProbing(service, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if in := v.services.get(service).instances[id]; in != nil && in.stopProbe != nil {
		in.stopProbe()
	}
}

// unconfirmed takes an instance adopted as ready out of the proxy when its prober has not
// confirmed readiness yet.
func (v *view) unconfirmed(service, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	in := s.instances[id]
	if in == nil || in.confirmed || !in.ready {
		return
	}
	in.ready = false
	v.applyTraffic(s)
	s.wakeDeployment()
}

// takeReport applies the parts of a prober's report that take traffic away at once, and
// returns the instance, its record as the report leaves it and whether it was ready. ok is
// false when there is nothing more to do: the instance is gone or stopping, or the report is
// the prober's first on an instance adopted as ready (it keeps serving as last known until a
// probe says otherwise; confirmReady bounds the wait).
func (v *view) takeReport(service, id string, r health.Result) (in *instance, rec store.Instance, wasReady, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	in = s.instances[id]
	if in == nil || in.stopping {
		return nil, store.Instance{}, false, false
	}
	wasReady = in.ready
	if wasReady && !in.confirmed && !r.Ready && r.Live && r.Message == "" {
		return nil, store.Instance{}, false, false
	}
	in.live, in.message = r.Live, r.Message
	in.confirmed = in.confirmed || r.Ready
	rec = in.rec
	rec.Ready, rec.ReadySince = r.Ready, in.readySince
	if r.Ready && !wasReady {
		rec.ReadySince = r.ReadySince
		if rec.ReadySince.IsZero() {
			rec.ReadySince = time.Now()
		}
	}
	if !r.Ready && wasReady {
		in.ready, in.rec = false, rec
		v.applyTraffic(s)
	}
	return in, rec, wasReady, true
}

// markReady gives a newly ready instance traffic, once its readiness is recorded.
func (v *view) markReady(service string, in *instance, rec store.Instance) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	if cur := s.instances[rec.ID]; cur == in && !in.stopping {
		in.ready, in.readySince, in.rec = true, rec.ReadySince, rec
		v.applyTraffic(s)
	}
}

// wake prompts the service's running deployment, if any, to look again.
func (v *view) wake(service string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.services.get(service).wakeDeployment()
}

// markStopping takes the instances out of traffic and returns their records, marked to stop.
func (v *view) markStopping(service string, ids []string) []store.Instance {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
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
	v.applyTraffic(s)
	return recs
}

// forget removes a stopped instance and reports whether it was the last one of an old
// revision while no deployment runs (the history may then be pruned).
func (v *view) forget(rec store.Instance) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(rec.Service)
	delete(s.instances, rec.ID)
	s.wakeDeployment()
	lastOfOld := rec.Revision != s.stable && s.active == nil
	for _, in := range s.instances {
		lastOfOld = lastOfOld && in.rec.Revision != rec.Revision
	}
	return lastOfOld
}

// instanceRef names one instance of a service.
type instanceRef struct{ service, id string }

// instanceRefs lists every instance.
func (v *view) instanceRefs() []instanceRef {
	v.mu.Lock()
	defer v.mu.Unlock()
	var refs []instanceRef
	for _, s := range v.services {
		for id := range s.instances {
			refs = append(refs, instanceRef{s.name, id})
		}
	}
	return refs
}

// setStatus takes in an instance's runtime status. It returns the instance's record and
// whether its state changed in a way to record (not for an instance being stopped). An
// instance that went away or came back starts its readiness over; one that moved gets
// probed at its new address.
func (v *view) setStatus(service string, st runtime.Status) (store.Instance, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	in := s.instances[st.ID]
	if in == nil {
		return store.Instance{}, false
	}
	old := in.status
	in.status = st
	changedState := old.State != st.State
	changedAddr := old.Addr != st.Addr || old.DirectAddr != st.DirectAddr
	changedHealth := old.Health != st.Health
	down := st.State != runtime.StateRunning && st.State != runtime.StateStarting
	if !down && old.State != st.State {
		in.output = ""
	}
	if down || st.Restarts != old.Restarts {
		// A process that went away or came back is a new process: readiness starts over.
		in.ready, in.readySince = false, time.Time{}
		if in.prober != nil && (changedState || st.Restarts != old.Restarts) {
			in.prober.Reset()
		}
		changedState = changedState || st.Restarts != old.Restarts
	}
	if changedAddr && in.prober != nil {
		rs, _ := v.specs.cached(service, in.rec.Revision)
		in.prober.SetTarget(v.probeTarget(st.Reach(), rs))
	}
	if changedState || changedAddr || changedHealth {
		v.applyTraffic(s)
		s.wakeDeployment()
	}
	return in.rec, changedState && !in.stopping
}

// stateOf returns an instance's revision and its runtime state as last seen.
func (v *view) stateOf(service, id string) (int, runtime.State, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	in := v.services.get(service).instances[id]
	if in == nil {
		return 0, "", false
	}
	return in.rec.Revision, in.status.State, true
}

// setOutput keeps the end of a down instance's output for its explanation.
func (v *view) setOutput(service, id, tail string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if in := v.services.get(service).instances[id]; in != nil {
		in.output = tail
	}
}

// reconcilePlan decides, for each service without a running deployment, what keeps it at
// its stable revision at now.
func (v *view) reconcilePlan(now time.Time) []reconcileWork {
	v.mu.Lock()
	defer v.mu.Unlock()
	var todo []reconcileWork
	for _, s := range v.services {
		if s.active != nil || s.stable == 0 {
			continue
		}
		if w := planService(s, now); w.start > 0 || len(w.stop) > 0 {
			todo = append(todo, w)
		}
	}
	return todo
}

// setWeights records the service's split and swaps the proxy's table at once.
func (v *view) setWeights(service string, weights map[int]int, preview int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	if maps.Equal(s.weights, weights) && (s.weights == nil) == (weights == nil) && s.preview == preview {
		return
	}
	s.weights = maps.Clone(weights)
	s.preview = preview
	v.applyTraffic(s)
}

// observe returns what the rollout controller sees of the service's instances that are
// not being stopped.
func (v *view) observe(service string) []rollout.Instance {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []rollout.Instance
	for _, in := range v.services.get(service).sortedInstances() {
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
			Message:    in.explanation(),
			StartedAt:  in.rec.CreatedAt,
			Baseline:   IsBaseline(in.rec.ID),
		})
	}
	return out
}

// activate registers a deployment as its service's running one.
func (v *view) activate(dep *rollout.Deployment) *Active {
	a := &Active{Deployment: dep, Wake: make(chan struct{}, 1), Requests: make(chan rollout.Request), Done: make(chan struct{})}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(dep.Service)
	s.active = a
	if dep.Spec.Strategy.Type == spec.TypeCanary {
		s.canary = dep.State.To
	}
	return a
}

// activeDeployment returns the service's running deployment, nil when none.
func (v *view) activeDeployment(service string) *Active {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.services[service]; s != nil {
		return s.active
	}
	return nil
}

// deactivate ends a running deployment's hold on its service, unless another one took it.
func (v *view) deactivate(a *Active) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(a.Deployment.Service)
	if s.active == a {
		s.active, s.canary = nil, 0
		v.applyTraffic(s)
	}
}

// retire sets the end of the warm window of the service's instances not of revision keep.
func (v *view) retire(service string, keep int, at time.Time) []store.Instance {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []store.Instance
	for _, in := range v.services.get(service).instances {
		if in.rec.Revision != keep && !in.stopping {
			in.rec.RetireAt = at
			out = append(out, in.rec)
		}
	}
	return out
}

// retiring returns the records of the service's instances not of revision keep that have
// the end of a warm window, for the store.
func (v *view) retiring(service string, keep int) []store.Instance {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []store.Instance
	for _, in := range v.services.get(service).instances {
		if in.rec.Revision != keep && !in.stopping && !in.rec.RetireAt.IsZero() {
			out = append(out, in.rec)
		}
	}
	return out
}

// promote makes rev the service's stable revision with all its traffic.
func (v *view) promote(service string, rev int, sp spec.Service) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	s.stable, s.spec = rev, sp
	s.weights = map[int]int{rev: 100}
	s.preview = 0
	v.applyTraffic(s)
}

// setStable makes rev the service's stable revision; traffic is the caller's to move.
func (v *view) setStable(service string, rev int, sp spec.Service) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	s.stable, s.spec, s.preview = rev, sp, 0
}

// history returns the service's revision_history_limit and the revisions pruning must keep.
func (v *view) history(service string) (int, []int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	protect := []int{s.stable}
	for _, in := range s.instances {
		protect = append(protect, in.rec.Revision)
	}
	return s.spec.RevisionHistoryLimit, protect
}

// noteRevision takes in a revision just recorded for a deployment: a service that has never
// had a stable revision takes its spec.
func (v *view) noteRevision(service string, rs spec.Service) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services.get(service)
	if s.stable == 0 {
		s.spec = rs
	}
}

// snapshot is a copy of one service's live view, for reads done with the lock released.
type snapshot struct {
	name      string
	spec      spec.Service
	stable    int
	deploying bool
	// shares is each revision's share of traffic as the proxy applies it.
	shares map[int]int
	// instances are oldest first; nil in the summaries of every service.
	instances []InstanceView
}

// snapshot copies the named service's live view (empty when unknown).
func (v *view) snapshot(name string) snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services[name]
	if s == nil {
		return snapshot{name: name}
	}
	out := snapshot{name: name, spec: s.spec, stable: s.stable, deploying: s.active != nil, shares: shares(targetGroups(s))}
	for _, in := range s.sortedInstances() {
		out.instances = append(out.instances, in.view())
	}
	return out
}

// summaries copies every known service's spec, stable revision and deployment flag.
func (v *view) summaries() []snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]snapshot, 0, len(v.services))
	for _, s := range v.services {
		out = append(out, snapshot{name: s.name, spec: s.spec, stable: s.stable, deploying: s.active != nil})
	}
	return out
}

// retireService sets the service's stable revision to none, so that nothing keeps it
// running, and returns the IDs of its instances; false when a deployment runs.
func (v *view) retireService(service string) ([]string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.services[service]
	if s == nil {
		return nil, true
	}
	if s.active != nil {
		return nil, false
	}
	s.stable = 0
	ids := make([]string, 0, len(s.instances))
	for id := range s.instances {
		ids = append(ids, id)
	}
	return ids, true
}

// instanceCount is how many instances of the service the view holds.
func (v *view) instanceCount(service string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.services[service]; s != nil {
		return len(s.instances)
	}
	return 0
}

// drop forgets a removed service.
func (v *view) drop(service string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.services, service)
}
