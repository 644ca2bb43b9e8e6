package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// applyTraffic computes the service's target groups from its serving instances and the
// recorded weights and hands them to the proxy in one swap. The view's lock is held.
func (v *view) applyTraffic(s *service) {
	groups := targetGroups(s)
	v.proxy.SetTargets(s.name, groups, s.preview)
	if typ, msg, ok := s.noteTargets(len(groups) > 0); ok {
		v.recordLater(store.Event{Time: time.Now(), Service: s.name, Type: typ, Message: msg}, map[string]any{"stable": s.stable})
	}
}

// targetGroups groups serving instances by revision, a canary's baseline instances apart
// under rollout.BaselineRevision; with explicit weights each group gets its revision's
// weight, otherwise its number of targets (every ready instance equal).
func targetGroups(s *service) []proxy.Group {
	byRev := map[int][]proxy.Target{}
	for _, in := range s.sortedInstances() {
		if in.serving() {
			rev := in.rec.Revision
			if IsBaseline(in.rec.ID) {
				rev = rollout.BaselineRevision(rev)
			}
			byRev[rev] = append(byRev[rev], proxy.Target{ID: in.rec.ID, Addr: in.status.Reach()})
		}
	}
	revs := slices.Sorted(maps.Keys(byRev))
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

// shares is each revision's share of the groups' traffic, in percent.
func shares(groups []proxy.Group) map[int]int {
	total := 0
	for _, g := range groups {
		total += g.Weight
	}
	out := map[int]int{}
	for _, g := range groups {
		if total > 0 {
			out[g.Revision] = g.Weight * 100 / total
		}
	}
	return out
}

// Route converts a spec's route to the proxy's.
func Route(s spec.Service) proxy.Route {
	r := proxy.Route{
		Service:  s.Name,
		Listen:   s.Route.Listen,
		Internal: s.Route.Internal,
		Hosts:    s.Route.Hosts,
		Paths:    s.Route.Paths,
		Balance:  s.Route.Balance,
		Timeout:  s.Route.Timeout.D(),
		Protocol: s.Route.Protocol,
		Limits: proxy.Limits{MaxBody: s.Route.MaxBodyBytes(), MaxConcurrency: s.Route.MaxConcurrency,
			QueueTimeout: s.Route.QueueTimeout.D()},
	}
	if t := s.Route.TLS; t != nil {
		r.TLS = &proxy.TLS{CertFile: t.Cert, KeyFile: t.Key, ACME: t.ACME, HTTPListen: t.HTTPListen, HSTS: t.HSTS.D()}
	}
	for _, e := range s.Route.Endpoints {
		r.Endpoints = append(r.Endpoints, proxy.Endpoint{Name: e.Name, Paths: e.Paths, Methods: e.Methods, HeaderValues: e.HeaderValues})
	}
	if h := s.Route.EndpointHeader; h != nil {
		r.EndpointHeader, r.StripEndpointHeader = h.Name, h.Strip
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

// targetState is whether a service's requests reach an instance.
type targetState uint8

const (
	targetsNever   targetState = iota // no target yet: the first deployment is starting
	targetsServing                    // the proxy has a target
	targetsLost                       // it had one and has none now
)

// noteTargets follows whether the service has a target in the proxy and returns the event
// of a change worth recording: its last target left (its requests then get 503 with
// Retry-After), or one is back.
func (s *service) noteTargets(has bool) (typ, msg string, ok bool) {
	switch {
	case has && s.targets == targetsLost:
		typ, msg = "targets_restored", fmt.Sprintf("service %s has a ready instance again; the proxy routes to it", s.name)
	case !has && s.targets == targetsServing:
		typ, msg = "no_targets", fmt.Sprintf("service %s has no ready instance: the proxy answers 503 with Retry-After", s.name)
	}
	switch {
	case has:
		s.targets = targetsServing
	case s.targets == targetsServing:
		s.targets = targetsLost
	}
	return typ, msg, typ != ""
}

// recordLater writes the event e, stamped with the time of the change, in the background:
// the view's lock is held.
func (v *view) recordLater(e store.Event, data map[string]any) {
	var err error
	if e.Data, err = json.Marshal(data); err != nil {
		v.logger.Warn("record event", "service", e.Service, "event", e.Type, "error", err)
		return
	}
	v.tasks.launch(func(ctx context.Context) {
		if ctx.Err() != nil {
			return // shutting down: instances stop by design
		}
		if _, err := v.store.AddEvent(ctx, e); err != nil {
			v.logger.Warn("record event", "service", e.Service, "event", e.Type, "error", err)
			return
		}
		v.logger.Info(e.Type, "service", e.Service)
	})
}
