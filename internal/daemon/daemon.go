// Package daemon is cutover's composition root: it wires the store, the runtime driver, the
// health probers, the proxy, the rollout controller and the control API together, recovers
// state after a restart and shuts everything down in order. It is the only package that knows
// the concrete parts.
package daemon

import (
	"github.com/cutover/cutover/internal/atomicfile"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/api"
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
	// LogLevel is used by Serve when Logger is nil: debug, info, warn or error.
	LogLevel string
	// Driver overrides the runtime (default: the process driver under StateDir/run for
	// specs without an image, the Docker driver for specs with one).
	Driver runtime.Driver
	// Tick is the reconcile interval (default 200ms).
	Tick time.Duration
	// RetryInterval is how often recovery retries a runtime that did not answer (default 5s).
	RetryInterval time.Duration
}

// Daemon is a running cutover: create it with New, then Run it.
type Daemon struct {
	opts    Options
	logger  *slog.Logger
	store   *store.Store
	driver  runtime.Driver
	proxy   *proxy.Proxy
	ctrl    *rollout.Controller
	token   string
	apiLn   net.Listener
	fleet   *fleet
	flags   *flagService
	tasks   tasks
	started chan *rollout.Deployment
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
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	token, err := api.LoadOrCreateToken(filepath.Join(opts.StateDir, "token"))
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	st, err := store.Open(ctx, filepath.Join(opts.StateDir, "state.db"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{opts: opts, logger: opts.Logger, store: st, token: token, fleet: newFleet(),
		started: make(chan *rollout.Deployment, 64)}
	if d.flags, err = newFlagService(ctx, st, token, opts.Logger); err != nil {
		st.Close()
		return nil, err
	}
	d.driver = opts.Driver
	if d.driver == nil {
		if d.driver, err = defaultDrivers(opts); err != nil {
			st.Close()
			return nil, err
		}
	}
	d.proxy = proxy.New(opts.Logger.With("component", "proxy"), proxy.Config{})
	d.ctrl = rollout.NewController(d, d, d, d, d, opts.Logger.With("component", "rollout"), rollout.Config{})
	ln, err := net.Listen("tcp", opts.Listen)
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
func (d *Daemon) Token() string { return d.token }

// Run recovers state, serves the API and the proxy and drives deployments until ctx is done,
// then shuts down in order: stop accepting API calls, park deployments, drain the proxy,
// optionally stop instances, close the store.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	d.tasks.start(workCtx)
	proxyCtx, stopProxy := context.WithCancel(context.WithoutCancel(ctx))
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- d.proxy.Run(proxyCtx) }()

	if err := d.recover(workCtx); err != nil {
		stopWork()
		stopProxy()
		<-proxyDone
		d.tasks.wait()
		return fmt.Errorf("recover state: %w", err)
	}
	srv := d.apiServer()
	apiDone := make(chan error, 1)
	go func() { apiDone <- srv.Serve(d.apiLn) }()
	if err := d.writeAddrFile(); err != nil {
		d.logger.Warn("write address file", "error", err)
	}
	d.logger.Info("daemon started", "api", d.Addr(), "state", d.opts.StateDir)
	d.tasks.launch(d.reconcileLoop)
	d.tasks.launch(d.deploymentLauncher)
	d.tasks.launch(d.flags.run)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-apiDone:
		runErr = fmt.Errorf("api server: %w", err)
	}
	d.logger.Info("daemon stopping")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	stopWork()
	d.tasks.wait()
	if d.opts.StopInstancesOnExit {
		d.stopAll(context.Background())
	}
	stopProxy()
	if err := <-proxyDone; err != nil && !errors.Is(err, context.Canceled) {
		d.logger.Warn("proxy stopped", "error", err)
	}
	d.logger.Info("daemon stopped")
	return runErr
}

func (d *Daemon) apiServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/", api.NewHandler(d, d.token, d.logger.With("component", "api"), api.WithFlags(d)))
	mux.Handle("/metrics", api.RequireToken(d.token, d.metricsHandler()))
	mux.Handle("/ofrep/", d.flags.ofrep)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(d.flags.shutdown)
	return srv
}

func (d *Daemon) writeAddrFile() error {
	addr := d.Addr()
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
	if d.driver != nil {
		if err := d.driver.Close(); err != nil {
			d.logger.Warn("close runtime", "error", err)
		}
	}
	if err := d.store.Close(); err != nil {
		d.logger.Warn("close store", "error", err)
	}
}

// tasks runs the daemon's background work under one context and waits for all of it.
type tasks struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	run func(func(context.Context))
}

func (t *tasks) start(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.run = func(f func(context.Context)) {
		t.wg.Go(func() { f(ctx) })
	}
}

// launch runs f in the background with the daemon's work context.
func (t *tasks) launch(f func(context.Context)) {
	t.mu.Lock()
	run := t.run
	t.mu.Unlock()
	if run != nil {
		run(f)
	}
}

func (t *tasks) wait() { t.wg.Wait() }
