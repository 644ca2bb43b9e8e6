package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/store"
)

// Outbox is where deliveries wait (the state file; *store.Store).
type Outbox interface {
	NotifyCursor(ctx context.Context) (int64, error)
	Enqueue(ctx context.Context, eventID int64, ds []store.Delivery, maxPending int) error
	NextDeliveries(ctx context.Context) ([]store.Delivery, error)
	RecordAttempt(ctx context.Context, id int64, delivered bool, errMsg string, next time.Time) error
}

// Source is what the notifier reads: the recorded events and their deployments.
type Source interface {
	Events(ctx context.Context, q api.EventQuery) ([]api.Event, error)
	Deployment(ctx context.Context, id int64) (api.Deployment, error)
}

// Targets returns where a service's events go: the daemon-wide targets and the service's
// own (named "<service>/<name>"); service "" is for events of no service.
type Targets interface {
	Targets(ctx context.Context, service string) ([]Target, error)
	// Target returns the target named name, false when there is none any more.
	Target(ctx context.Context, name string) (Target, bool, error)
}

// Config tunes a Notifier; zero fields take the defaults.
type Config struct {
	Poll       time.Duration // how often to look for events and due deliveries (200ms)
	Timeout    time.Duration // one attempt's limit (5s)
	MinBackoff time.Duration // first retry's wait, doubled each time (1s)
	MaxBackoff time.Duration // longest wait between attempts (5m)
	GiveUp     time.Duration // a delivery older than this stops being retried (24h)
	MaxPending int           // per target; more are dropped (10000)
	Host       string        // names this daemon in CloudEvents' source
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Poll, 200*time.Millisecond)
	def(&c.Timeout, 5*time.Second)
	def(&c.MinBackoff, time.Second)
	def(&c.MaxBackoff, 5*time.Minute)
	def(&c.GiveUp, 24*time.Hour)
	if c.MaxPending <= 0 {
		c.MaxPending = 10000
	}
	return c
}

// Notifier turns events into deliveries and delivers them. Create it with New; Run it.
type Notifier struct {
	out     Outbox
	src     Source
	targets Targets
	client  *http.Client
	logger  *slog.Logger
	cfg     Config
	// created is when New made the notifier: before the daemon serves its API, so no event of
	// this process can be older. since: on a state file without a cursor, events before
	// created are history and not sent.
	created, since time.Time
}

// New returns a notifier; it starts nothing.
func New(out Outbox, src Source, targets Targets, logger *slog.Logger, cfg Config) *Notifier {
	cfg = cfg.withDefaults()
	return &Notifier{out: out, src: src, targets: targets, logger: logger, cfg: cfg, created: time.Now(),
		client: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Run enqueues and delivers until ctx ends, then cancels the attempts in flight (they stay
// pending, for the next daemon) and waits for them. Each
// target has at most one attempt in flight, so its deliveries go out in order and a slow or
// dead receiver holds back only its own. Errors are logged and retried at the next poll.
func (n *Notifier) Run(ctx context.Context) error {
	// Not the time Run starts: a deployment the API began before this goroutine ran would
	// lose its first events.
	if after, err := n.out.NotifyCursor(ctx); err == nil && after == 0 {
		n.since = n.created
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	busy := map[string]bool{}
	tick := time.NewTicker(n.cfg.Poll)
	defer tick.Stop()
	// A new daemon tries every pending delivery at once: the receiver may be back, and
	// the backoff was the old process's.
	retryAll := true
	for {
		if err := n.enqueue(ctx); err != nil && ctx.Err() == nil {
			n.logger.Warn("notify: enqueue", "error", err)
		}
		next, err := n.out.NextDeliveries(ctx)
		if err != nil && ctx.Err() == nil {
			n.logger.Warn("notify: read outbox", "error", err)
		}
		for _, d := range next {
			mu.Lock()
			skip := busy[d.Target] || (!retryAll && time.Now().Before(d.NextAt))
			busy[d.Target] = true
			mu.Unlock()
			if skip {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.attempt(ctx, d)
				mu.Lock()
				delete(busy, d.Target)
				mu.Unlock()
			}()
		}
		retryAll = false
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// enqueue turns the events after the cursor into deliveries, a page at a time. On a state
// file that never had a cursor, events older than the notifier's start are not sent.
func (n *Notifier) enqueue(ctx context.Context) error {
	after, err := n.out.NotifyCursor(ctx)
	if err != nil {
		return err
	}
	for {
		evs, err := n.src.Events(ctx, api.EventQuery{AfterID: after, Limit: 100})
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, e := range evs {
			ds, err := n.deliveries(ctx, e)
			if err != nil {
				return fmt.Errorf("notify event %d: %w", e.ID, err)
			}
			if err := n.out.Enqueue(ctx, e.ID, ds, n.cfg.MaxPending); err != nil {
				return err
			}
			after = e.ID
		}
	}
}

// deliveries renders e once for each target that wants it.
func (n *Notifier) deliveries(ctx context.Context, e api.Event) ([]store.Delivery, error) {
	name := Name(e)
	if name == "" || e.Time.Before(n.since) {
		return nil, nil
	}
	targets, err := n.targets.Targets(ctx, e.Service)
	if err != nil {
		return nil, err
	}
	m := Message{Name: name, Event: e, Host: n.cfg.Host}
	if e.DeploymentID != 0 {
		if d, err := n.src.Deployment(ctx, e.DeploymentID); err == nil {
			m.Deployment = &d
		}
	}
	var out []store.Delivery
	for _, t := range targets {
		if !t.wants(name) || (name == EventTest && e.Message != "" && e.Message != t.Name && e.Message != "all") {
			continue
		}
		body, err := render(t.Kind, m)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Delivery{EventID: e.ID, Target: t.Name, Service: e.Service, Type: name, Body: body})
	}
	return out, nil
}

func render(kind string, m Message) ([]byte, error) {
	if kind == KindSlack {
		return Slack(m)
	}
	return CloudEvent(m)
}
