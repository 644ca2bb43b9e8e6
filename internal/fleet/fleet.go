// Package fleet owns the live view of every service and instance: which instances of which
// revision run, which are ready, and how the proxy splits each service's traffic between
// them. It starts, probes, drains and stops instances, keeps each service without a running
// deployment at its stable revision, and rebuilds the view from the store after a restart.
//
// The store is the record; the fleet is what the proxy and the rollout controller act on.
// It reaches the store, the proxy, the runtime, the probers and the event log through
// interfaces it declares, and gives the rollout controller what it needs through small
// adapters (Instances, Traffic, Recorder, Metrics). It knows nothing of the control API.
// The lock over the live view is taken in state.go only, and nothing slow happens while it
// is held; the spec cache has its own, taken in specs.go only.
package fleet

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Store is the record the fleet keeps its instances, deployments and events in.
type Store interface {
	ListServices(ctx context.Context) ([]store.Service, error)
	// Instances reaches the instance records.
	Instances() store.Instances
	GetRevision(ctx context.Context, service string, n int) (store.Revision, error)
	PruneRevisions(ctx context.Context, service string, keep int, protect []int) ([]int, error)
	GetDeployment(ctx context.Context, id int64) (store.Deployment, error)
	UpdateDeployment(ctx context.Context, d store.Deployment) error
	// BeginSwitch records a warm switch and its new stable revision at once.
	BeginSwitch(ctx context.Context, d store.Deployment, spec []byte) (store.Deployment, error)
	AddEvent(ctx context.Context, e store.Event) (store.Event, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	// Tx runs fn in one write transaction.
	Tx(ctx context.Context, fn func(tx *store.Store) error) error
}

// Proxy is the part of the proxy the fleet sets routes and targets on.
type Proxy interface {
	SetRoute(r proxy.Route) error
	SetTargets(service string, groups []proxy.Group, preview int)
	Drain(ctx context.Context, targetID string, timeout time.Duration) error
	Stats(service string) map[int]proxy.Counts
}

// Events records one transition of a service for people (the store's events) and the log.
type Events interface {
	Record(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any)
}

// Prober probes one instance (health.Prober): Run reports each change until ctx is done,
// Reset starts over (a new process), SetTarget follows a new address.
type Prober interface {
	Run(ctx context.Context, report func(health.Result))
	Reset()
	SetTarget(t health.Target)
}

// NewProber makes an instance's prober.
type NewProber func(probes spec.Probes, target health.Target, logger *slog.Logger) Prober

// Config is what New needs. Store, Proxy, Runtime and Events are required.
type Config struct {
	Store   Store
	Proxy   Proxy
	Runtime runtime.Driver
	Events  Events
	// Probers makes each instance's prober (default: health.NewProber).
	Probers NewProber
	// Secrets returns what hides a revision's secret values in the text its probes report
	// (default: nothing hidden).
	Secrets func(rs spec.Service) func(text string) string
	Logger  *slog.Logger
	// Tick is the reconcile interval (default 200ms).
	Tick time.Duration
	// RetryInterval is how often recovery retries a runtime that did not answer (default 5s).
	RetryInterval time.Duration
	// DrainTimeout bounds an instance's drain when its revision's spec cannot be read
	// (default 30s; otherwise the spec's route.drain_timeout).
	DrainTimeout time.Duration
	// ReadinessWindow is how long an instance adopted as ready may go unconfirmed by its
	// prober when its spec has no readiness or startup probe (default 5s).
	ReadinessWindow time.Duration
	// Crash kills the daemon at a named step of recording an instance's start or stop, for
	// the tests that prove what survives (nil: never).
	Crash *crashpoint.At
}

// Fleet is the live view of every service and its instances. Create it with New, rebuild
// it with Recover, then Run it. Its methods are safe for concurrent use.
//
// It is a front over parts that each do one job with their own state: the view (the live
// services and instances, and the proxy's table built from them; its lock is taken in
// state.go only), the spec cache (specs.go), the supervisor (starting, probing, stopping,
// reconciling and adopting instances) and the adapters the rollout controller drives.
type Fleet struct {
	*parts
	sup *supervisor
}

// parts is what the fleet's jobs share: their dependencies, the live view, the spec cache
// and the background work.
type parts struct {
	cfg    Config
	store  Store
	proxy  Proxy
	rt     runtime.Driver
	events Events
	logger *slog.Logger
	tasks  *tasks
	view   *view
	specs  *specs
}

// New returns an empty fleet over the given parts. It starts nothing.
func New(cfg Config) *Fleet {
	if cfg.Probers == nil {
		cfg.Probers = func(p spec.Probes, t health.Target, l *slog.Logger) Prober { return health.NewProber(p, t, l) }
	}
	if cfg.Secrets == nil {
		cfg.Secrets = func(spec.Service) func(string) string { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 200 * time.Millisecond
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.ReadinessWindow <= 0 {
		cfg.ReadinessWindow = 5 * time.Second
	}
	p := &parts{cfg: cfg, store: cfg.Store, proxy: cfg.Proxy, rt: cfg.Runtime, events: cfg.Events, logger: cfg.Logger,
		tasks: &tasks{}, specs: newSpecs(cfg.Store)}
	p.view = &view{services: serviceMap{}, proxy: cfg.Proxy, store: cfg.Store, logger: cfg.Logger, tasks: p.tasks,
		specs: p.specs, probeTarget: func(addr string, rs spec.Service) health.Target { return probeTarget(cfg, addr, rs) }}
	return &Fleet{parts: p, sup: &supervisor{p}}
}

// Run does the fleet's background work until ctx is done: it probes, drains and stops the
// instances it was asked to (work launched before Run, by Recover, starts now) and
// reconciles every Tick. It returns once all of that work has exited. Run may be called
// again after it returned, after Reset and Recover (a hand-off that failed resumes).
func (f *Fleet) Run(ctx context.Context) error {
	f.tasks.start(ctx)
	f.sup.reconcileLoop(ctx)
	f.tasks.wait()
	f.tasks.stop()
	return nil
}

// StopAll stops every instance and waits until they are gone, for a daemon told to leave
// nothing running. Call it once Run has returned.
func (f *Fleet) StopAll(ctx context.Context) {
	f.tasks.start(ctx)
	byService := map[string][]string{}
	for _, r := range f.view.instanceRefs() {
		byService[r.service] = append(byService[r.service], r.id)
	}
	for svc, ids := range byService {
		if err := f.sup.stop(ctx, svc, ids); err != nil {
			f.logger.Warn("stop instances", "service", svc, "error", err)
		}
	}
	f.tasks.wait()
	f.tasks.stop()
}

// tasks runs the fleet's background work under Run's context and waits for all of it.
// Work launched while no Run is going waits for the next one.
type tasks struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	run    func(func(context.Context))
	queued []func(context.Context)
}

func (t *tasks) start(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.run = func(f func(context.Context)) {
		t.wg.Go(func() { f(ctx) })
	}
	for _, f := range t.queued {
		t.run(f)
	}
	t.queued = nil
}

// stop makes work launched from now on wait for the next start.
func (t *tasks) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.run = nil
}

// launch runs f in the background with Run's context, or queues it until Run starts.
func (t *tasks) launch(f func(context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run == nil {
		t.queued = append(t.queued, f)
		return
	}
	t.run(f)
}

func (t *tasks) wait() { t.wg.Wait() }
