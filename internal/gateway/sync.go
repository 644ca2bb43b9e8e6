package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Fleet is what the Syncer reads of cutover's services: each one's current spec, and each
// revision's share of its traffic as cutover's proxy applies it.
type Fleet interface {
	Specs() map[string]spec.Service
	Weights(service string) map[int]int
}

// Applier writes a route's backends (Steerer in production).
type Applier interface {
	Apply(ctx context.Context, t Target, backends []Backend) error
}

// Syncer keeps the HTTPRoute of every service with route.gateway in step with the
// service's traffic: the weights the rollout controller sets (Traffic calls Sync at once)
// and the shares that follow instances becoming ready (Run looks every Interval).
type Syncer struct {
	fleet  Fleet
	apply  Applier
	ns     string // the pods' namespace
	owner  string
	logger *slog.Logger
	// Interval is how often Run looks (default 1s).
	Interval time.Duration

	mu   sync.Mutex
	last map[string]string // service → the backends last applied, as text
}

// NewSyncer returns a Syncer for pods in namespace ns labelled with owner; it starts nothing.
func NewSyncer(fleet Fleet, apply Applier, ns, owner string, logger *slog.Logger) *Syncer {
	return &Syncer{fleet: fleet, apply: apply, ns: ns, owner: owner, logger: logger, Interval: time.Second, last: map[string]string{}}
}

// TargetOf is where the backends of service s go, false when it steers no gateway.
func TargetOf(s spec.Service, podNamespace, owner string) (Target, bool) {
	g := s.Route.Gateway
	if g == nil {
		return Target{}, false
	}
	t := Target{Service: s.Name, Namespace: podNamespace, Route: g.HTTPRoute, RouteNamespace: g.Namespace, Port: 8080, Owner: owner}
	if t.RouteNamespace == "" {
		t.RouteNamespace = podNamespace
	}
	if c := s.Run.Container; c != nil && c.Port > 0 {
		t.Port = c.Port
	}
	return t, true
}

// Sync writes service's backends when they differ from those last written.
func (s *Syncer) Sync(ctx context.Context, service string) error {
	sp, ok := s.fleet.Specs()[service]
	if !ok {
		return nil
	}
	return s.sync(ctx, sp)
}

func (s *Syncer) sync(ctx context.Context, sp spec.Service) error {
	t, ok := TargetOf(sp, s.ns, s.owner)
	if !ok {
		return nil
	}
	backends := Backends(sp.Name, s.fleet.Weights(sp.Name))
	if len(backends) == 0 {
		return nil // nothing serves yet (or any more): leave the route as it is
	}
	key := fmt.Sprintf("%+v %v", t, backends)
	s.mu.Lock()
	same := s.last[sp.Name] == key
	s.mu.Unlock()
	if same {
		return nil
	}
	if err := s.apply.Apply(ctx, t, backends); err != nil {
		return err
	}
	s.mu.Lock()
	s.last[sp.Name] = key
	s.mu.Unlock()
	s.logger.Info("httproute backends set", "service", sp.Name, "httproute", t.RouteNamespace+"/"+t.Route, "backends", fmt.Sprint(backends))
	return nil
}

// Run syncs every service with route.gateway each Interval until ctx ends; a failure is
// logged and tried again.
func (s *Syncer) Run(ctx context.Context) error {
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	for {
		for _, sp := range s.fleet.Specs() {
			if err := s.sync(ctx, sp); err != nil && ctx.Err() == nil {
				s.logger.Warn("sync httproute", "service", sp.Name, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Weighter is the traffic setter Traffic wraps (the fleet's, for cutover's own proxy).
type Weighter interface {
	SetWeights(ctx context.Context, service string, weights map[int]int, preview int) error
}

// Traffic sets weights on cutover's proxy, then on the service's HTTPRoute, so a step's
// weight is on the gateway before the step goes on.
type Traffic struct {
	Inner  Weighter
	Syncer *Syncer
}

// SetWeights implements the rollout controller's Traffic.
func (t Traffic) SetWeights(ctx context.Context, service string, weights map[int]int, preview int) error {
	if err := t.Inner.SetWeights(ctx, service, weights, preview); err != nil {
		return err
	}
	return t.Syncer.Sync(ctx, service)
}
