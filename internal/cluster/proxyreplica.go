package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/proxy"
)

// ProxyConfig configures a proxy replica.
type ProxyConfig struct {
	Namespace string
	// Replica names the replica (its pod name); its report is kept under that name.
	Replica string
	// Listen is the address every route is served on (the Service's target port).
	Listen string
	// Poll is how often the table is read (default 200ms); Report how often the counts are
	// written when the table has not changed (default 1s).
	Poll, Report time.Duration
	// ShutdownDelay is how long the replica keeps serving after it is told to stop, before it
	// closes its listener and drains: the time Kubernetes takes to remove a stopping pod
	// from the Service's endpoints, during which new connections still arrive.
	ShutdownDelay time.Duration
}

// ProxyReplica is one stateless proxy: it routes by the table the leader publishes and
// reports its per-revision counts and the table generation it applies.
type ProxyReplica struct {
	cfg     ProxyConfig
	routes  *kubestate.Routes
	reports *kubestate.Reports
	proxy   *proxy.Proxy
	logger  *slog.Logger

	gen     int64
	applied map[string]proxy.Route
}

// NewProxyReplica returns a replica; it opens nothing until Run.
func NewProxyReplica(cs kubernetes.Interface, cfg ProxyConfig, logger *slog.Logger) (*ProxyReplica, error) {
	if cfg.Namespace == "" || cfg.Replica == "" || cfg.Listen == "" {
		return nil, errors.New("cluster proxy: namespace, replica name and listen address are required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Report <= 0 {
		cfg.Report = time.Second
	}
	logger = logger.With("replica", cfg.Replica)
	return &ProxyReplica{cfg: cfg, routes: kubestate.NewRoutes(cs, cfg.Namespace), reports: kubestate.NewReports(cs, cfg.Namespace),
		proxy: proxy.New(logger, proxy.Config{}), logger: logger, applied: map[string]proxy.Route{}}, nil
}

// Run serves until ctx is done and ShutdownDelay has passed, then drains in-flight requests.
func (r *ProxyReplica) Run(ctx context.Context) error {
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	done := make(chan error, 1)
	go func() { done <- r.proxy.Run(serveCtx) }()
	go func() {
		<-ctx.Done()
		if r.cfg.ShutdownDelay > 0 {
			r.logger.Info("stopping: serving on until the endpoints are updated", "delay", r.cfg.ShutdownDelay)
			time.Sleep(r.cfg.ShutdownDelay)
		}
		stopServing()
	}()
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	lastReport := time.Time{}
	for {
		changed, err := r.sync(ctx)
		if err != nil && ctx.Err() == nil {
			r.logger.Warn("route table", "error", err)
		}
		if changed || time.Since(lastReport) >= r.cfg.Report {
			if err := r.report(ctx); err != nil && ctx.Err() == nil {
				r.logger.Warn("report counts", "error", err)
			} else {
				lastReport = time.Now()
			}
		}
		select {
		case <-serveCtx.Done():
			return <-done
		case <-poll.C:
		}
	}
}

// sync applies the table when its generation changed.
func (r *ProxyReplica) sync(ctx context.Context) (bool, error) {
	t, _, err := r.routes.Read(ctx)
	if err != nil {
		return false, err
	}
	if t.Generation == r.gen && r.gen != 0 {
		return false, nil
	}
	for name, sr := range t.Services {
		route := fleet.Route(sr.Spec)
		route.Service, route.Listen, route.Internal, route.PreviewListen, route.TLS = name, r.cfg.Listen, nil, "", nil
		if !reflect.DeepEqual(r.applied[name], route) {
			if err := r.proxy.SetRoute(route); err != nil {
				return false, fmt.Errorf("service %s: %w", name, err)
			}
			r.applied[name] = route
		}
		r.proxy.SetTargets(name, proxyGroups(sr.Groups), sr.Preview)
	}
	for name := range r.applied {
		if _, ok := t.Services[name]; !ok {
			r.proxy.RemoveRoute(name)
			delete(r.applied, name)
		}
	}
	r.gen = t.Generation
	return true, nil
}

func proxyGroups(gs []kubestate.Group) []proxy.Group {
	out := make([]proxy.Group, 0, len(gs))
	for _, g := range gs {
		pg := proxy.Group{Revision: g.Revision, Weight: g.Weight, Role: g.Role}
		for _, t := range g.Targets {
			pg.Targets = append(pg.Targets, proxy.Target{ID: t.ID, Addr: t.Addr})
		}
		out = append(out, pg)
	}
	return out
}

// report writes this replica's counts and the generation it applies.
func (r *ProxyReplica) report(ctx context.Context) error {
	rep := kubestate.Report{Replica: r.cfg.Replica, Generation: r.gen, At: time.Now().UTC(), Counts: map[string]map[int]analysis.Counts{}}
	for name := range r.applied {
		m := map[int]analysis.Counts{}
		for rev, c := range r.proxy.Stats(name) {
			ac := analysis.Counts{Requests: c.Requests, Errors: c.Errors, Latency: c.Latency}
			for ep, e := range c.Endpoints {
				if ac.Endpoints == nil {
					ac.Endpoints = map[string]analysis.Counts{}
				}
				ac.Endpoints[ep] = analysis.Counts{Requests: e.Requests, Errors: e.Errors, Latency: e.Latency}
			}
			m[rev] = ac
		}
		rep.Counts[name] = m
	}
	return r.reports.Write(ctx, rep)
}
