package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/runtime/kube"
)

// Config configures a controller replica.
type Config struct {
	Namespace string
	// Identity names the replica (its pod name); unique among replicas.
	Identity string
	// Owner labels the pods the controllers create (default "cutover-cluster"); every
	// replica of one installation must use the same.
	Owner string
	// Lease is the Lease's name (default "cutover-controller"), and its timings.
	Lease                                     string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Tick bounds the wait between two looks at a deployment (default 1s).
	Tick time.Duration
	// AckTimeout bounds the wait for every live proxy to apply a table before an instance
	// leaves (default 10s); a proxy whose report is older than ProxyStale is not waited for
	// (default 5s).
	AckTimeout, ProxyStale time.Duration
	// Listen is the control API's address; Token its bearer token.
	Listen, Token string
}

func (c Config) withDefaults() Config {
	if c.Owner == "" {
		c.Owner = "cutover-cluster"
	}
	if c.Lease == "" {
		c.Lease = "cutover-controller"
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.ProxyStale <= 0 {
		c.ProxyStale = 5 * time.Second
	}
	return c
}

// Controller is one controller replica.
type Controller struct {
	cfg     Config
	kube    kubernetes.Interface
	driver  *kube.Driver
	deps    *kubestate.Deployments
	routes  *kubestate.Routes
	reports *kubestate.Reports
	elector *kubestate.Elector
	logger  *slog.Logger
}

// NewController returns a replica over the given clients; it contacts nothing.
func NewController(cs kubernetes.Interface, dyn dynamic.Interface, cfg Config, logger *slog.Logger) (*Controller, error) {
	cfg = cfg.withDefaults()
	if cfg.Namespace == "" || cfg.Identity == "" {
		return nil, errors.New("cluster controller: namespace and identity are required")
	}
	drv, err := kube.New(kube.Options{Client: cs, Namespace: cfg.Namespace, Owner: cfg.Owner})
	if err != nil {
		return nil, err
	}
	el, err := kubestate.NewElector(cs, kubestate.ElectorConfig{Namespace: cfg.Namespace, Name: cfg.Lease, Identity: cfg.Identity,
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod}, logger)
	if err != nil {
		return nil, err
	}
	logger = logger.With("replica", cfg.Identity)
	return &Controller{cfg: cfg, kube: cs, driver: drv, deps: kubestate.NewDeployments(dyn, cfg.Namespace),
		routes: kubestate.NewRoutes(cs, cfg.Namespace), reports: kubestate.NewReports(cs, cfg.Namespace), elector: el, logger: logger}, nil
}

// Run serves the control API on ln (every replica does) and campaigns for the lease; the
// leader drives deployments. It returns when ctx is done.
func (c *Controller) Run(ctx context.Context, ln net.Listener) error {
	srv := api.NewServer(api.NewHandler(&Backend{c: c}, c.cfg.Token, c.logger), api.Limits{}, nil)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := c.elector.Run(ctx, c.lead)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("control API: %w", serr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// lead is the leader's work for one term: resume every active deployment, publish the
// route table, stop what nothing owns. It returns once ctx is done and its work has stopped.
func (c *Controller) lead(ctx context.Context, term int64) {
	s := newSession(c, term)
	s.run(ctx)
}
