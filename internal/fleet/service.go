package fleet

import (
	"sort"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// service is one service's live state, guarded by the view's lock.
type service struct {
	name   string
	spec   spec.Service // the spec of the latest deployment (route, replicas)
	stable int
	// weights nil: spread over every ready instance; preview: revision reached by preview requests.
	weights   map[int]int
	preview   int
	instances map[string]*instance
	// active is the running deployment, nil when none; canary is its new revision while it
	// is a canary deployment (the proxy's canary role), else 0.
	active *Active
	canary int
	// targets says whether the proxy has a target of the service (see noteTargets).
	targets targetState
}

// Active is a running deployment as the fleet tracks it. Wake prompts its controller to
// look again (an instance changed); Requests carries operator actions to it; Done is closed
// by whoever drives it once it stops driving.
type Active struct {
	Deployment *rollout.Deployment
	Wake       chan struct{}
	Requests   chan rollout.Request
	Done       chan struct{}
}

// instance is one instance's live state, guarded by the view's lock.
type instance struct {
	rec        store.Instance
	status     runtime.Status
	ready      bool
	readySince time.Time
	live       bool
	confirmed  bool // the prober has reported ready since the fleet was recovered
	stopping   bool
	message    string
	output     string // the end of its output, once it went down (explain.Tail)
	prober     Prober
	stopProbe  func()
}

func newService(name string) *service {
	return &service{name: name, instances: map[string]*instance{}}
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
		if in.rec.Revision == rev && in.serving() && !IsBaseline(in.rec.ID) {
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
	case s.active.Wake <- struct{}{}:
	default:
	}
}

// role is a revision's part in the service's traffic, for canary routing and metrics; a
// negative revision is a baseline group.
func (s *service) role(rev int) string {
	switch {
	case rev < 0:
		return "baseline"
	case rev != 0 && rev == s.canary:
		return "canary"
	case rev == s.stable:
		return "stable"
	}
	return ""
}
