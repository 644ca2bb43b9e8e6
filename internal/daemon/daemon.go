// Package daemon is cutover's composition root: it wires the store, the runtime driver, the
// health probers, the proxy, the rollout controller and the control API together, recovers
// state after a restart and shuts everything down in order. It is the only package that knows
// the concrete parts.
package daemon

import (
	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/attest"
	"github.com/cutover/cutover/internal/dashboard"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/redact"
	"github.com/cutover/cutover/internal/seal"
	"github.com/cutover/cutover/internal/series"

	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/certs"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/flags"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/gateway"
	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/memtrim"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/store"
)

// Options configures a daemon.
type Options struct {
	// StateDir holds the SQLite state, the token, the address file, instance records and logs.
	StateDir string
	// Listen is the control API address (default 127.0.0.1:7070; port 0 picks one).
	Listen string
	// AddrFile, when set, receives the API's real address once it listens.
	AddrFile string
	// StopInstancesOnExit stops every instance when the daemon shuts down; by default
	// instances keep running and the next daemon adopts them.
	StopInstancesOnExit bool
	Logger              *slog.Logger
	// LogLevel and LogFormat are used by Serve when Logger is nil: debug, info, warn or
	// error; text (logfmt, the default) or json.
	LogLevel, LogFormat string
	// Driver overrides the runtime (default: the process driver under StateDir/run for
	// specs without an image, the Docker driver for specs with one).
	Driver runtime.Driver
	// Tick is the reconcile interval (default 200ms).
	Tick time.Duration
	// SampleEvery is how often the dashboard's per-revision time series takes a sample of
	// the proxy's counters (default 10s; 360 samples are kept).
	SampleEvery time.Duration
	// RetryInterval is how often recovery retries a runtime that did not answer (default 5s).
	RetryInterval time.Duration
	// Lint lints a service's PostgreSQL migrations before a deployment (default: the
	// real parser in this process; Serve runs it in a child `cutover migrate lint`).
	Lint coordinator.Linter
	// TrimExecutable, set by the process's entry point (Serve), drops the pages of the
	// executable that starting touched once the daemon serves (see memtrim).
	TrimExecutable bool
	// ContractCheck is how often contract parts waiting for an old revision to be gone
	// look again (default 1s).
	ContractCheck time.Duration
	// Version is this build's version, shown by GET /v1/daemon and sent to the daemon this
	// one replaces.
	Version string
	// Reload hands the daemon over to a new process of Successor when it receives (see
	// handoff.go); Serve connects it to SIGHUP.
	Reload <-chan os.Signal
	// Successor is the command of the process that takes over on Reload (nil: no hand-off).
	Successor *handoff.Command
	// HandoffTimeout bounds how long the successor may take to serve (default 60s).
	HandoffTimeout time.Duration
	// ShutdownTimeout bounds how long the daemon waits, once told to stop, for the control
	// API's in-flight requests to finish (default 10s).
	ShutdownTimeout time.Duration
	// StopTimeout bounds how long StopInstancesOnExit waits for the instances to drain and
	// stop (default 2m); what still runs then is left for the next daemon to adopt.
	StopTimeout time.Duration
	// APITLSCert and APITLSKey, both or neither, are PEM files: the API then serves HTTPS only.
	APITLSCert, APITLSKey string
	// RequireApproval makes every deployment (but a warm rollback's switch) wait, before
	// anything starts, for an approval by a token other than the one that started it.
	RequireApproval bool
	// NotifyConfig is a YAML file of daemon-wide notify targets (see internal/notify); "": none.
	NotifyConfig string
	// Environment names this daemon's environment (staging, production): promotions name
	// it, and a spec's promotion.require_from is met here when it names it.
	Environment string
	// Trust holds, by environment name, the keys whose signed promotions this daemon accepts
	// (serve --trust-environment NAME=KEY); nil: it accepts none.
	Trust map[string]attest.PublicKey
	// APILimits bound the control API's requests (zero fields: api's defaults).
	APILimits api.Limits
	// Proxy holds the proxy's client-side limits and trusted proxies (zero fields: the
	// proxy's defaults); its Listen is the daemon's own.
	Proxy proxy.Config
	// ACME configures automatic HTTPS (route.tls.acme).
	ACME ACMEOptions
	// Crash kills the daemon at a named step of starting or stopping an instance, for the
	// tests that prove what survives (crashpoint; nil: never).
	Crash *crashpoint.At
	// inherited holds what the daemon this one replaces passed on (set by Serve).
	inherited *handoff.Inherited
}

// Daemon is a running cutover: create it with New, then Run it.
type Daemon struct {
	opts     Options
	logger   *slog.Logger
	store    *store.Store
	driver   runtime.Driver
	proxy    *proxy.Proxy
	certs    *certs.Manager
	ctrl     *rollout.Controller
	tokens   *apiTokens
	apiTLS   *tls.Config
	apiLn    net.Listener
	fleet    *fleet.Fleet
	events   eventLog
	flags    *flags.Service
	tasks    tasks
	launcher *launcher
	mig      *coordinator.Coordinator
	// lock is the state directory's lock; listeners hands out (inherited) listeners.
	lock         *os.File
	driverClosed sync.Once
	listeners    *handoff.Listeners
	handingOff   atomic.Bool
	apiConns     atomic.Int64 // open API connections, for a drain that drops no request
	sealKey      *seal.Key
	attest       *attest.Signer // signs the promotions this daemon hands out
	dash         *dashboard.Dashboard
	notifyDir    notify.Directory
	notifier     *notify.Notifier
	// gateway steers the HTTPRoutes of services with route.gateway (nil: no cluster).
	gateway *gateway.Syncer
	series  *series.Recorder
}

// New opens the state and prepares every part without starting any goroutine. The API
// listener is opened here so that its address is known before Run.
func New(ctx context.Context, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:7070"
	}
	if opts.Tick <= 0 {
		opts.Tick = 200 * time.Millisecond
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 5 * time.Second
	}
	if opts.HandoffTimeout <= 0 {
		opts.HandoffTimeout = 60 * time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 2 * time.Minute
	}
	notifyTargets, err := loadNotifyTargets(opts.NotifyConfig)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	if err := privateStateDir(opts.StateDir); err != nil {
		return nil, err
	}
	lock, err := lockState(opts)
	if err != nil {
		return nil, err
	}
	tokens, err := loadAPITokens(opts.StateDir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	tlsConf, err := apiTLS(opts)
	if err != nil {
		lock.Close()
		return nil, err
	}
	st, key, err := openState(ctx, opts.StateDir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	signer, err := attest.LoadOrCreate(filepath.Join(opts.StateDir, attest.KeyFile))
	if err != nil {
		st.Close()
		lock.Close()
		return nil, err
	}
	d := &Daemon{opts: opts, logger: opts.Logger, store: st, tokens: tokens, apiTLS: tlsConf,
		events: eventLog{store: st, logger: opts.Logger}, lock: lock, listeners: listenersOf(opts), sealKey: key, attest: signer,
		series: series.New(0)}
	d.flags, err = flags.NewService(ctx, flags.SQLiteStore{St: st}, flags.SQLiteTokens{St: st}, opts.Logger.With("component", "flags"),
		flags.ServiceOptions{Admin: tokens.keys, Event: func(ctx context.Context, typ, msg string, data map[string]any) {
			d.events.Record(ctx, "", 0, typ, msg, data)
		}})
	if err != nil {
		st.Close()
		return nil, err
	}
	d.driver = opts.Driver
	if d.driver == nil {
		if d.driver, err = defaultDrivers(opts, key); err != nil {
			st.Close()
			return nil, err
		}
	}
	if d.certs, err = newCerts(opts, d.events); err != nil {
		st.Close()
		return nil, err
	}
	pc := opts.Proxy
	pc.Listen, pc.Certs = d.proxyListen, d.certs
	d.proxy = proxy.New(opts.Logger.With("component", "proxy"), pc)
	d.restorePauses()
	d.fleet = fleet.New(fleet.Config{Store: st, Proxy: d.proxy, Runtime: d.driver, Events: d.events, Logger: opts.Logger,
		Secrets: redact.Service, Tick: opts.Tick, RetryInterval: opts.RetryInterval, Crash: opts.Crash})
	d.mig = d.newMigrations()
	if d.gateway, err = newGatewaySyncer(opts, d.fleet); err != nil {
		st.Close()
		return nil, err
	}
	d.ctrl = rollout.NewController(d.fleet.Instances(), d.traffic(), d.fleet.Recorder(), d.newHookRunner(), d.fleet.Metrics(),
		opts.Logger.With("component", "rollout"), rollout.Config{})
	d.launcher = &launcher{fleet: d.fleet, ctrl: d.ctrl, mig: d.mig, store: st, events: d.events, logger: opts.Logger,
		tasks: &d.tasks, started: make(chan *fleet.Active, 64)}
	d.notifyDir = notify.Directory{Global: notifyTargets, Specs: st}
	d.notifier = notify.New(st, d.backend(), d.notifyDir, opts.Logger.With("component", "notify"), notify.Config{Host: hostname()})
	ln, err := d.listeners.Listen("api", opts.Listen)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("listen api %s: %w", opts.Listen, err)
	}
	d.apiLn = ln
	return d, nil
}

// Addr is the control API's address.
func (d *Daemon) Addr() string { return d.apiLn.Addr().String() }

// Token is the control API's bearer token.
func (d *Daemon) Token() string { return d.tokens.keys.Current() }

// Run recovers state, serves the API and the proxy and drives deployments until ctx is done,
// then shuts down in order: stop accepting API calls (up to ShutdownTimeout for the requests
// in flight), park deployments, optionally stop instances (up to StopTimeout), drain the
// proxy, close the store. The proxy and the API server run under one errgroup, the control
// plane's loops under another (restarted after a failed hand-off); Run returns after both.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	d.tasks.start(workCtx)
	proxyCtx, stopProxy := context.WithCancel(context.WithoutCancel(ctx))
	var serving errgroup.Group
	serving.Go(func() error { return d.proxy.Run(proxyCtx) })
	serving.Go(func() error { return d.certs.Run(proxyCtx) })

	if err := d.launcher.recover(workCtx); err != nil {
		stopWork()
		stopProxy()
		d.stopped(serving.Wait())
		_ = d.tasks.wait() // each loop's error is logged where it ends
		return fmt.Errorf("recover state: %w", err)
	}
	srv := d.apiServer()
	apiDone := make(chan error, 1)
	serving.Go(func() error {
		err := serveAPI(srv, d.apiLn)
		apiDone <- err
		return err
	})
	if err := d.writeAddrFile(); err != nil {
		d.logger.Warn("write address file", "error", err)
	}
	d.logger.Info("daemon started", "api", d.Addr(), "state", d.opts.StateDir, "version", d.opts.Version, "pid", os.Getpid())
	d.startControl()
	d.announce()
	if d.opts.TrimExecutable {
		kb, err := memtrim.Executable()
		d.logger.Info("executable pages touched at start dropped", "kib", kb, "error", err)
	}

	runErr, handedOff := d.serveUntilDone(ctx, apiDone, &stopWork)
	if handedOff {
		stopProxy() // the successor serves: stop accepting at once, drain below
		// Only the successor supervises instances from now on: a crash while this one
		// drains must not be restarted twice.
		d.closeDriver()
	}
	d.logger.Info("daemon stopping", "handed_off", handedOff)
	shutCtx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownTimeout)
	defer cancel()
	d.drainAPI(shutCtx, srv)
	stopWork()
	_ = d.tasks.wait()
	if d.opts.StopInstancesOnExit && !handedOff {
		stopCtx, cancelStop := context.WithTimeout(context.Background(), d.opts.StopTimeout)
		d.fleet.StopAll(stopCtx)
		cancelStop()
	}
	stopProxy()
	d.stopped(serving.Wait())
	if !handedOff {
		handoff.RemovePIDFile(d.opts.StateDir, os.Getpid())
	}
	d.logger.Info("daemon stopped")
	return runErr
}

// serveUntilDone waits for ctx to end, the API server to fail or a hand-off to succeed
// (Reload). A failed hand-off restarts the control plane under a new stop function.
func (d *Daemon) serveUntilDone(ctx context.Context, apiDone <-chan error, stopWork *context.CancelFunc) (error, bool) {
	for {
		select {
		case <-ctx.Done():
			return nil, false
		case err := <-apiDone:
			return fmt.Errorf("api server: %w", err), false
		case <-d.opts.Reload:
			var handedOff bool
			if handedOff, *stopWork = d.handOff(ctx, *stopWork); handedOff {
				return nil, true
			}
		}
	}
}

// stopped logs how the serving parts ended, unless they ended because they were told to.
func (d *Daemon) stopped(err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
		d.logger.Warn("serving stopped", "error", err)
	}
}

func (d *Daemon) apiServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/", d.apiHandler())
	mux.Handle("/ofrep/", d.flags.OFREP())
	gated := d.gate(mux)
	d.dash = dashboard.New(dashboard.Config{API: gated, Check: d.tokens.keys.Check, Source: d.backend(), Sealer: d.sealKey,
		Samples: d.series.Latest, Logger: d.logger.With("component", "dashboard")})
	for _, p := range dashboard.Patterns {
		mux.Handle(p, d.dash)
	}
	srv := api.NewServer(gated, d.opts.APILimits, d.apiTLS)
	srv.ConnState = d.countAPIConn
	srv.RegisterOnShutdown(d.flags.Shutdown)
	return srv
}

func (d *Daemon) writeAddrFile() error {
	addr := d.apiURL()
	path := filepath.Join(d.opts.StateDir, "api.addr")
	if err := atomicfile.Write(path, []byte(addr+"\n"), 0o600); err != nil {
		return err
	}
	if d.opts.AddrFile != "" {
		return atomicfile.Write(d.opts.AddrFile, []byte(addr+"\n"), 0o644)
	}
	return nil
}

func (d *Daemon) close() {
	if d.apiLn != nil {
		d.apiLn.Close()
	}
	d.closeDriver()
	if err := d.store.Close(); err != nil {
		d.logger.Warn("close store", "error", err)
	}
	// With a successor holding a copy, closing does not release the lock.
	d.lock.Close()
}

// closeDriver stops the runtime's supervision, once; instances keep running.
func (d *Daemon) closeDriver() {
	d.driverClosed.Do(func() {
		if d.driver == nil {
			return
		}
		if err := d.driver.Close(); err != nil {
			d.logger.Warn("close runtime", "error", err)
		}
	})
}

// tasks runs the control plane's background work under one context and one errgroup and
// waits for all of it; start begins a new generation (after a failed hand-off).
type tasks struct {
	mu    sync.Mutex
	ctx   context.Context
	group *errgroup.Group
}

func (t *tasks) start(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctx, t.group = ctx, &errgroup.Group{}
}

// launch runs the loop f in the background with the daemon's work context. An error other
// than the context's end is logged at once, as the loop named name stopping, and returned by
// wait.
func (t *tasks) launch(logger *slog.Logger, name string, f func(context.Context) error) {
	t.mu.Lock()
	ctx, g := t.ctx, t.group
	t.mu.Unlock()
	if g == nil {
		return
	}
	g.Go(func() error {
		err := f(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("control loop stopped", "loop", name, "error", err)
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// wait returns once every launched function has returned, with the first error.
func (t *tasks) wait() error {
	t.mu.Lock()
	g := t.group
	t.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.Wait()
}
