package daemon

import (
	"context"
	"maps"
	"sort"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// SetWeights implements rollout.Traffic: it records the service's split and swaps the
// proxy's table at once.
func (d *Daemon) SetWeights(_ context.Context, service string, weights map[int]int, preview int) error {
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	s := d.fleet.service(service)
	if maps.Equal(s.weights, weights) && (s.weights == nil) == (weights == nil) && s.preview == preview {
		return nil
	}
	s.weights = maps.Clone(weights)
	s.preview = preview
	d.applyTrafficLocked(s)
	return nil
}

// applyTrafficLocked computes the service's target groups from its serving instances and the
// recorded weights and hands them to the proxy in one swap. The fleet lock must be held.
func (d *Daemon) applyTrafficLocked(s *service) {
	groups := targetGroups(s)
	d.proxy.SetTargets(s.name, groups, s.preview)
	d.noteTargets(s, len(groups) > 0)
}

// targetGroups groups serving instances by revision, a canary's baseline instances apart
// under rollout.BaselineRevision; with explicit weights each group gets its revision's
// weight, otherwise its number of targets (every ready instance equal).
func targetGroups(s *service) []proxy.Group {
	byRev := map[int][]proxy.Target{}
	for _, in := range s.sortedInstances() {
		if in.serving() {
			rev := in.rec.Revision
			if isBaseline(in.rec.ID) {
				rev = rollout.BaselineRevision(rev)
			}
			byRev[rev] = append(byRev[rev], proxy.Target{ID: in.rec.ID, Addr: in.status.Addr})
		}
	}
	revs := make([]int, 0, len(byRev))
	for r := range byRev {
		revs = append(revs, r)
	}
	sort.Ints(revs)
	groups := make([]proxy.Group, 0, len(revs))
	for _, r := range revs {
		w := len(byRev[r])
		if s.weights != nil {
			w = s.weights[r]
		}
		groups = append(groups, proxy.Group{Revision: r, Weight: w, Targets: byRev[r], Role: s.role(r)})
	}
	return groups
}

// proxyRoute converts a spec's route to the proxy's.
func proxyRoute(s spec.Service) proxy.Route {
	r := proxy.Route{
		Service: s.Name,
		Listen:  s.Route.Listen,
		Hosts:   s.Route.Hosts,
		Paths:   s.Route.Paths,
		Balance: s.Route.Balance,
		Timeout: s.Route.Timeout.D(),
		Limits: proxy.Limits{MaxBody: s.Route.MaxBodyBytes(), MaxConcurrency: s.Route.MaxConcurrency,
			QueueTimeout: s.Route.QueueTimeout.D()},
	}
	if t := s.Route.TLS; t != nil {
		r.TLS = &proxy.TLS{CertFile: t.Cert, KeyFile: t.Key}
	}
	if bg := s.Strategy.BlueGreen; bg != nil {
		r.PreviewHeader = bg.PreviewHeader
		r.PreviewListen = bg.PreviewListen
	}
	if c := s.Strategy.Canary; c != nil {
		r.Canary = proxy.CanaryRouting{Header: c.Routing.Header, Cookie: c.Routing.Cookie, Sticky: c.Routing.Sticky}
	}
	return r
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

// RevisionCounts implements rollout.Metrics: the proxy's counters per revision since the
// daemon started, as the canary judge reads them.
func (d *Daemon) RevisionCounts(service string) map[int]analysis.Counts {
	out := map[int]analysis.Counts{}
	for rev, c := range d.proxy.Stats(service) {
		out[rev] = analysis.Counts{Requests: c.Requests, Errors: c.Errors, Latency: c.Latency}
	}
	return out
}
