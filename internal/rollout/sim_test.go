package rollout

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// t0 is the simulated time at which every deployment begins.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// behaviour is how the simulated instances of one revision act after they start.
type behaviour struct {
	readyAfter time.Duration // becomes ready this long after start (0: at once)
	crashAfter time.Duration // when > 0: crash-loops this long after start, never ready
	never      bool          // never becomes ready, never crashes
}

// simStep is one strategy call: what it saw and what it decided, and the world after.
type simStep struct {
	at    time.Time
	in    State
	st    State
	d     Decision
	after []Instance
}

// sim is a tiny fake world for strategies: it carries decisions out on an instance list
// and advances time by each decision's Wait. It has no goroutines and no clock.
type sim struct {
	t        *testing.T
	now      time.Time
	st       State
	svc      spec.Service
	next     Strategy
	insts    []Instance
	startAt  map[string]time.Time
	count    map[int]int
	behave   map[int]behaviour
	results  map[string]string // hook name → result the fake hook gives (default passed)
	asked    map[string]int
	weights  map[int]int
	before   func(s *sim)      // runs before each call, may set operator requests
	stop     func(s *sim) bool // ends the run early; default: not active or paused
	check    func(s *sim, step simStep)
	steps    []simStep
	maxSteps int
}

// newSim starts a deployment from revision from (with replicas ready instances, unless
// from is 0) to revision 2 under strat.
func newSim(t *testing.T, strat spec.Strategy, from, replicas int) *sim {
	t.Helper()
	s := &sim{
		t: t, now: t0,
		svc:     spec.Service{Name: "web", Replicas: replicas, Strategy: strat},
		next:    For(strat),
		startAt: map[string]time.Time{},
		count:   map[int]int{},
		behave:  map[int]behaviour{},
		results: map[string]string{},
		asked:   map[string]int{},
		st: State{
			Strategy: strat.Type, From: from, To: 2, Replicas: replicas,
			Status: StatusRunning, Phase: "starting", StartedAt: t0, LastProgressAt: t0,
		},
		maxSteps: 5000,
	}
	if from != 0 {
		s.add(from, replicas, true)
		s.weights = map[int]int{from: 100}
	}
	return s
}

// add puts count instances of rev into the world, ready since an hour ago if ready.
func (s *sim) add(rev, count int, ready bool) {
	for range count {
		s.count[rev]++
		in := Instance{ID: fmt.Sprintf("r%d-%d", rev, s.count[rev]), Revision: rev, StartedAt: t0.Add(-time.Hour)}
		if ready {
			in.Ready, in.ReadySince = true, t0.Add(-time.Hour)
		}
		s.insts = append(s.insts, in)
	}
}

// tick applies each instance's behaviour at s.now.
func (s *sim) tick() {
	for i := range s.insts {
		in := &s.insts[i]
		at, ok := s.startAt[in.ID]
		if !ok || in.Ready || in.CrashLoop {
			continue
		}
		b := s.behave[in.Revision]
		switch {
		case b.never:
		case b.crashAfter > 0:
			if !s.now.Before(at.Add(b.crashAfter)) {
				in.CrashLoop, in.Message = true, "exit status 1"
			}
		case !s.now.Before(at.Add(b.readyAfter)):
			in.Ready, in.ReadySince = true, at.Add(b.readyAfter)
		}
	}
}

// call runs the strategy once on the current world and carries its decision out.
func (s *sim) call() simStep {
	s.t.Helper()
	s.tick()
	if s.before != nil {
		s.before(s)
	}
	in := s.st
	st, d := s.next(s.st, Observation{Now: s.now, Spec: s.svc, Instances: slices.Clone(s.insts)})
	s.apply(st, d)
	step := simStep{at: s.now, in: in, st: s.st, d: d, after: slices.Clone(s.insts)}
	s.steps = append(s.steps, step)
	if s.check != nil {
		s.check(s, step)
	}
	return step
}

func (s *sim) apply(st State, d Decision) {
	s.t.Helper()
	for _, o := range d.Start {
		// Baseline instances are counted under BaselineRevision and named b<rev>-<n>.
		key, prefix := o.Revision, "r"
		if o.Baseline {
			key, prefix = BaselineRevision(o.Revision), "b"
		}
		for range o.Count {
			s.count[key]++
			id := fmt.Sprintf("%s%d-%d", prefix, o.Revision, s.count[key])
			s.insts = append(s.insts, Instance{ID: id, Revision: o.Revision, StartedAt: s.now, Baseline: o.Baseline})
			s.startAt[id] = s.now
		}
	}
	s.weights = d.Weights
	if d.Hook != "" {
		s.asked[d.Hook]++
		st.Hooks = maps.Clone(st.Hooks)
		if st.Hooks == nil {
			st.Hooks = map[string]string{}
		}
		res, ok := s.results[d.Hook]
		if !ok {
			res = "passed"
		}
		st.Hooks[d.Hook] = res
	}
	for _, id := range d.Stop {
		i := slices.IndexFunc(s.insts, func(in Instance) bool { return in.ID == id })
		if i < 0 {
			s.t.Errorf("at %v: stop of unknown instance %s", s.now.Sub(t0), id)
			continue
		}
		s.insts = slices.Delete(s.insts, i, i+1)
	}
	s.st = st
	if st.Status == StatusRunning && d.Wait <= 0 {
		s.t.Fatalf("at %v: running deployment (phase %q) asked for no wait", s.now.Sub(t0), st.Phase)
	}
}

// run calls the strategy until the run stops, advancing time by each decision's Wait.
func (s *sim) run() {
	s.t.Helper()
	stop := s.stop
	if stop == nil {
		stop = func(s *sim) bool { return s.st.Status != StatusRunning }
	}
	for range s.maxSteps {
		step := s.call()
		if stop(s) {
			return
		}
		s.now = s.now.Add(max(step.d.Wait, time.Millisecond))
	}
	s.t.Fatalf("no end after %d steps; state %+v", s.maxSteps, s.st)
}

// revisions counts the instances of each revision in ins (ready ones in ready).
func revisions(ins []Instance) (all, ready map[int]int) {
	all, ready = map[int]int{}, map[int]int{}
	for _, in := range ins {
		all[in.Revision]++
		if in.Ready {
			ready[in.Revision]++
		}
	}
	return all, ready
}

// availableAll counts every instance available at now.
func availableAll(ins []Instance, now time.Time, minReady time.Duration) int {
	n := 0
	for _, in := range ins {
		if in.Available(now, minReady) || (in.Ready && in.StartedAt.Before(t0)) {
			n++
		}
	}
	return n
}

// serving counts ready instances that get traffic under weights.
func serving(ins []Instance, weights map[int]int) int {
	n := 0
	for _, in := range ins {
		if in.Ready && (weights == nil || weights[in.Revision] > 0) {
			n++
		}
	}
	return n
}
