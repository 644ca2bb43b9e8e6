package fleet

import (
	"context"
	"slices"

	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// Reset forgets the live view and the spec cache, before a Recover that rebuilds them from
// the store.
func (f *Fleet) Reset() {
	f.view.reset()
	f.specs.reset()
}

// Activate registers a deployment as its service's running one.
func (f *Fleet) Activate(dep *rollout.Deployment) *Active { return f.view.activate(dep) }

// ActiveDeployment returns the service's running deployment, nil when none.
func (f *Fleet) ActiveDeployment(service string) *Active { return f.view.activeDeployment(service) }

// Deactivate ends a running deployment's hold on its service, unless another one took it.
func (f *Fleet) Deactivate(a *Active) { f.view.deactivate(a) }

// NoteRevision takes in a revision just recorded for a deployment; a service that has never
// had a stable revision takes its spec.
func (f *Fleet) NoteRevision(service string, rev int, rs spec.Service) {
	f.specs.put(service, rev, rs)
	f.view.noteRevision(service, rs)
}

// RevisionSpec returns a revision's spec, from the fleet's cache or the store.
func (f *Fleet) RevisionSpec(ctx context.Context, service string, rev int) (spec.Service, error) {
	return f.specs.get(ctx, service, rev)
}

// Serving returns the service's stable revision (0: none yet) and whether a deployment of
// it is running.
func (f *Fleet) Serving(service string) (stable int, deploying bool) {
	s := f.view.snapshot(service)
	return s.stable, s.deploying
}

// Stables lists every known service's stable revision and the database section of its
// current spec.
func (f *Fleet) Stables() map[string]Stable {
	all := f.view.summaries()
	out := make(map[string]Stable, len(all))
	for _, s := range all {
		out[s.name] = Stable{Revision: s.stable, Database: s.spec.Database}
	}
	return out
}

// RunningRevisions lists, in order, the revisions of service that have instances, stopping
// ones too.
func (f *Fleet) RunningRevisions(service string) []int {
	var out []int
	for _, in := range f.view.snapshot(service).instances {
		if !slices.Contains(out, in.Revision) {
			out = append(out, in.Revision)
		}
	}
	slices.Sort(out)
	return out
}

// StableRoute returns the route the service serves at its stable revision, nil before it
// has one.
func (f *Fleet) StableRoute(service string) *proxy.Route {
	s := f.view.snapshot(service)
	if s.stable == 0 {
		return nil
	}
	r := Route(s.spec)
	return &r
}

// RouteOwner returns the service other than name whose stable route conflicts with route,
// "" when none does.
func (f *Fleet) RouteOwner(name string, route proxy.Route) string {
	for _, other := range f.view.summaries() {
		if other.name != name && other.stable > 0 && proxy.Conflict(route, Route(other.spec)) {
			return other.name
		}
	}
	return ""
}

// TargetURL is the URL of one serving instance of the revision, or "".
func (f *Fleet) TargetURL(service string, rev int) string {
	for _, in := range f.view.snapshot(service).instances {
		if in.Revision == rev && in.Target {
			return "http://" + in.Addr
		}
	}
	return ""
}

// Weights reports each revision's share of the service's traffic as the proxy applies it.
func (f *Fleet) Weights(service string) map[int]int {
	if w := f.view.snapshot(service).shares; w != nil {
		return w
	}
	return map[int]int{}
}

// InstanceViews returns a view of each of the service's instances, oldest first.
func (f *Fleet) InstanceViews(service string) []InstanceView {
	return f.view.snapshot(service).instances
}

// Warm returns the revisions of the service that have a serving instance.
func (f *Fleet) Warm(service string) map[int]bool {
	warm := map[int]bool{}
	for _, in := range f.view.snapshot(service).instances {
		if in.Target {
			warm[in.Revision] = true
		}
	}
	return warm
}

// Specs returns each known service's current spec.
func (f *Fleet) Specs() map[string]spec.Service {
	all := f.view.summaries()
	out := make(map[string]spec.Service, len(all))
	for _, s := range all {
		out[s.name] = s.spec
	}
	return out
}
