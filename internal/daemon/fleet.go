package daemon

import (
	"sort"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// fleet is the daemon's in-memory view of every service and instance. The store is the
// record; the fleet is what the proxy and the controller act on. One mutex guards it all:
// nothing slow (I/O, waiting) happens while it is held.
type fleet struct {
	mu       sync.Mutex
	services map[string]*service
}

func newFleet() *fleet { return &fleet{services: map[string]*service{}} }

// service is one service's live state.
type service struct {
	name   string
	spec   spec.Service // the spec of the latest deployment (route, replicas)
	stable int
	// revisions caches each revision's spec, loaded from the store on demand.
	revisions map[int]spec.Service
	// weights nil: spread over every ready instance; preview: revision reached by preview requests.
	weights   map[int]int
	preview   int
	instances map[string]*instance
	// active is the running deployment, nil when none; canary is its new revision while it
	// is a canary deployment (the proxy's canary role), else 0.
	active *activeDeployment
	canary int
	// targets says whether the proxy has a target of the service (see noteTargets).
	targets targetState
}

type activeDeployment struct {
	d        *rollout.Deployment
	wake     chan struct{}
	requests chan rollout.Request
	done     chan struct{}
}

// instance is one instance's live state.
type instance struct {
	rec        store.Instance
	status     runtime.Status
	ready      bool
	readySince time.Time
	live       bool
	confirmed  bool // the prober has reported ready since the daemon started
	stopping   bool
	message    string
	prober     *health.Prober
	stopProbe  func()
}

func (f *fleet) service(name string) *service {
	s := f.services[name]
	if s == nil {
		s = &service{name: name, revisions: map[int]spec.Service{}, instances: map[string]*instance{}}
		f.services[name] = s
	}
	return s
}

// sortedInstances returns the service's instances ordered by creation time and ID.
func (s *service) sortedInstances() []*instance {
	out := make([]*instance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].rec, out[j].rec
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out
}

// serving reports whether the instance may receive traffic now: its probes say ready, the
// runtime runs it at a known address and, when the runtime observes health itself (Docker
// HEALTHCHECK), that health is healthy.
func (in *instance) serving() bool {
	return in.ready && !in.stopping && in.status.Addr != "" &&
		(in.status.State == runtime.StateRunning || in.status.State == runtime.StateStarting) &&
		(in.status.Health == runtime.HealthUnknown || in.status.Health == runtime.HealthHealthy)
}

// readyCount counts the ready, non-stopping instances of a revision, baseline ones aside.
func (s *service) readyCount(rev int) int {
	n := 0
	for _, in := range s.instances {
		if in.rec.Revision == rev && in.serving() && !isBaseline(in.rec.ID) {
			n++
		}
	}
	return n
}

func (s *service) wakeDeployment() {
	if s.active == nil {
		return
	}
	select {
	case s.active.wake <- struct{}{}:
	default:
	}
}
