package fleet

import (
	"maps"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// This file is the only one that takes the fleet's lock. Each function is one short
// critical section: it reads or changes the live view, hands the proxy a new table when
// traffic changes, and returns what its caller needs to do the slow part (I/O, waiting)
// with the lock released.

// service returns the named service's state, created empty if unknown. The lock is held.
func (f *Fleet) service(name string) *service {
	s := f.services[name]
	if s == nil {
		s = newService(name)
		f.services[name] = s
	}
	return s
}

// Reset forgets the live view, before a Recover that rebuilds it from the store.
func (f *Fleet) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.services)
}

// setService restores a recovered service's spec and stable revision.
func (f *Fleet) setService(name string, sp spec.Service, stable int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(name)
	s.spec, s.stable = sp, stable
}

// restoreTraffic sends each recovered service's traffic to its stable revision when one of
// its instances is known ready, else to whatever is ready.
func (f *Fleet) restoreTraffic() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.services {
		if s.stable > 0 && s.readyCount(s.stable) > 0 {
			s.weights = map[int]int{s.stable: 100}
		}
		f.applyTraffic(s)
	}
}

// add registers a new instance and updates the service's traffic.
func (f *Fleet) add(in *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(in.rec.Service)
	s.instances[in.rec.ID] = in
	f.applyTraffic(s)
}

// setStopProbe keeps the function that stops in's prober and reports whether in is already
// being stopped (its prober must not run).
func (f *Fleet) setStopProbe(in *instance, cancel func()) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	in.stopProbe = cancel
	return in.stopping
}

// stopProbing stops an instance's prober.
func (f *Fleet) stopProbing(service, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.service(service).instances[id]; in != nil && in.stopProbe != nil {
		in.stopProbe()
	}
}

// unconfirmed takes an instance adopted as ready out of the proxy when its prober has not
// confirmed readiness yet.
func (f *Fleet) unconfirmed(service, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	in := s.instances[id]
	if in == nil || in.confirmed || !in.ready {
		return
	}
	in.ready = false
	f.applyTraffic(s)
	s.wakeDeployment()
}

// takeReport applies the parts of a prober's report that take traffic away at once, and
// returns the instance, its record as the report leaves it and whether it was ready. ok is
// false when there is nothing more to do: the instance is gone or stopping, or the report is
// the prober's first on an instance adopted as ready (it keeps serving as last known until a
// probe says otherwise; confirmReady bounds the wait).
func (f *Fleet) takeReport(service, id string, r health.Result) (in *instance, rec store.Instance, wasReady, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
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
		f.applyTraffic(s)
	}
	return in, rec, wasReady, true
}

// markReady gives a newly ready instance traffic, once its readiness is recorded.
func (f *Fleet) markReady(service string, in *instance, rec store.Instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	if cur := s.instances[rec.ID]; cur == in && !in.stopping {
		in.ready, in.readySince, in.rec = true, rec.ReadySince, rec
		f.applyTraffic(s)
	}
}

// wake prompts the service's running deployment, if any, to look again.
func (f *Fleet) wake(service string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.service(service).wakeDeployment()
}

// markStopping takes the instances out of traffic and returns their records, marked to stop.
func (f *Fleet) markStopping(service string, ids []string) []store.Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
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
	f.applyTraffic(s)
	return recs
}

// forget removes a stopped instance and reports whether it was the last one of an old
// revision while no deployment runs (the history may then be pruned).
func (f *Fleet) forget(rec store.Instance) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(rec.Service)
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
func (f *Fleet) instanceRefs() []instanceRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	var refs []instanceRef
	for _, s := range f.services {
		for id := range s.instances {
			refs = append(refs, instanceRef{s.name, id})
		}
	}
	return refs
}

// allInstances lists every instance's ID by service.
func (f *Fleet) allInstances() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, s := range f.services {
		for id := range s.instances {
			out[s.name] = append(out[s.name], id)
		}
	}
	return out
}

// setStatus takes in an instance's runtime status. It returns the instance's record and
// whether its state changed in a way to record (not for an instance being stopped). An
// instance that went away or came back starts its readiness over; one that moved gets
// probed at its new address.
func (f *Fleet) setStatus(service string, st runtime.Status) (store.Instance, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	in := s.instances[st.ID]
	if in == nil {
		return store.Instance{}, false
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
		in.prober.SetTarget(f.probeTarget(st.Addr, s.revisions[in.rec.Revision]))
	}
	if changedState || changedAddr || changedHealth {
		f.applyTraffic(s)
		s.wakeDeployment()
	}
	return in.rec, changedState && !in.stopping
}

// reconcilePlan decides, for each service without a running deployment, what keeps it at
// its stable revision at now.
func (f *Fleet) reconcilePlan(now time.Time) []reconcileWork {
	f.mu.Lock()
	defer f.mu.Unlock()
	var todo []reconcileWork
	for _, s := range f.services {
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
func (f *Fleet) setWeights(service string, weights map[int]int, preview int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	if maps.Equal(s.weights, weights) && (s.weights == nil) == (weights == nil) && s.preview == preview {
		return
	}
	s.weights = maps.Clone(weights)
	s.preview = preview
	f.applyTraffic(s)
}

// observe returns what the rollout controller sees of the service's instances that are
// not being stopped.
func (f *Fleet) observe(service string) []rollout.Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rollout.Instance
	for _, in := range f.service(service).sortedInstances() {
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
			Baseline:   IsBaseline(in.rec.ID),
		})
	}
	return out
}

// Activate registers a deployment as its service's running one.
func (f *Fleet) Activate(dep *rollout.Deployment) *Active {
	a := &Active{Deployment: dep, Wake: make(chan struct{}, 1), Requests: make(chan rollout.Request), Done: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(dep.Service)
	s.active = a
	if dep.Spec.Strategy.Type == spec.TypeCanary {
		s.canary = dep.State.To
	}
	return a
}

// ActiveDeployment returns the service's running deployment, nil when none.
func (f *Fleet) ActiveDeployment(service string) *Active {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.services[service]; s != nil {
		return s.active
	}
	return nil
}

// Deactivate ends a running deployment's hold on its service, unless another one took it.
func (f *Fleet) Deactivate(a *Active) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(a.Deployment.Service)
	if s.active == a {
		s.active, s.canary = nil, 0
		f.applyTraffic(s)
	}
}

// retire sets the end of the warm window of the service's instances not of revision keep.
func (f *Fleet) retire(service string, keep int, at time.Time) []store.Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Instance
	for _, in := range f.service(service).instances {
		if in.rec.Revision != keep && !in.stopping {
			in.rec.RetireAt = at
			out = append(out, in.rec)
		}
	}
	return out
}

// retiring returns the records of the service's instances not of revision keep that have
// the end of a warm window, for the store.
func (f *Fleet) retiring(service string, keep int) []store.Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Instance
	for _, in := range f.service(service).instances {
		if in.rec.Revision != keep && !in.stopping && !in.rec.RetireAt.IsZero() {
			out = append(out, in.rec)
		}
	}
	return out
}

// promote makes rev the service's stable revision with all its traffic.
func (f *Fleet) promote(service string, rev int, sp spec.Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	s.stable, s.spec = rev, sp
	s.weights = map[int]int{rev: 100}
	s.preview = 0
	f.applyTraffic(s)
}

// setStable makes rev the service's stable revision; traffic is the caller's to move.
func (f *Fleet) setStable(service string, rev int, sp spec.Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	s.stable, s.spec, s.preview = rev, sp, 0
}

// history returns the service's revision_history_limit and the revisions pruning must keep.
func (f *Fleet) history(service string) (int, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	protect := []int{s.stable}
	for _, in := range s.instances {
		protect = append(protect, in.rec.Revision)
	}
	return s.spec.RevisionHistoryLimit, protect
}

func (f *Fleet) cachedRevision(service string, rev int) (spec.Service, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, ok := f.service(service).revisions[rev]
	return rs, ok
}

func (f *Fleet) cacheRevision(service string, rev int, rs spec.Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.service(service).revisions[rev] = rs
}

// NoteRevision takes in a revision just recorded for a deployment; a service that has never
// had a stable revision takes its spec.
func (f *Fleet) NoteRevision(service string, rev int, rs spec.Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	s.revisions[rev] = rs
	if s.stable == 0 {
		s.spec = rs
	}
}

// Serving returns the service's stable revision (0: none yet) and whether a deployment of
// it is running.
func (f *Fleet) Serving(service string) (stable int, deploying bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.service(service)
	return s.stable, s.active != nil
}

// Stables lists every known service's stable revision and the database section of its
// current spec.
func (f *Fleet) Stables() map[string]Stable {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Stable, len(f.services))
	for name, s := range f.services {
		out[name] = Stable{Revision: s.stable, Database: s.spec.Database}
	}
	return out
}

// RunningRevisions lists, in order, the revisions of service that have instances, stopping
// ones too.
func (f *Fleet) RunningRevisions(service string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, in := range f.service(service).instances {
		if !slices.Contains(out, in.rec.Revision) {
			out = append(out, in.rec.Revision)
		}
	}
	slices.Sort(out)
	return out
}

// StableRoute returns the route the service serves at its stable revision, nil before it
// has one.
func (f *Fleet) StableRoute(service string) *proxy.Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.services[service]
	if s == nil || s.stable == 0 {
		return nil
	}
	r := Route(s.spec)
	return &r
}

// RouteOwner returns the service other than name whose stable route conflicts with route,
// "" when none does.
func (f *Fleet) RouteOwner(name string, route proxy.Route) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, other := range f.services {
		if other.name != name && other.stable > 0 && proxy.Conflict(route, Route(other.spec)) {
			return other.name
		}
	}
	return ""
}

// TargetURL is the URL of one serving instance of the revision, or "".
func (f *Fleet) TargetURL(service string, rev int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.service(service).sortedInstances() {
		if in.rec.Revision == rev && in.serving() {
			return "http://" + in.status.Addr
		}
	}
	return ""
}

// Weights reports each revision's share of the service's traffic as the proxy applies it.
func (f *Fleet) Weights(service string) map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return shares(targetGroups(f.service(service)))
}

// InstanceViews returns a view of each of the service's instances, oldest first.
func (f *Fleet) InstanceViews(service string) []InstanceView {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []InstanceView
	for _, in := range f.service(service).sortedInstances() {
		out = append(out, in.view())
	}
	return out
}

// Warm returns the revisions of the service that have a serving instance.
func (f *Fleet) Warm(service string) map[int]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	warm := map[int]bool{}
	for _, in := range f.service(service).instances {
		if in.serving() {
			warm[in.rec.Revision] = true
		}
	}
	return warm
}
