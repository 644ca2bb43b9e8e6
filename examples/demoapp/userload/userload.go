// Package userload drives the demo app's database mode (/users) at a constant rate and checks
// every write it was told succeeded: each task writes (creates a user, or renames one it
// created) and reads the user back, and at the end Report.Users holds the name every
// acknowledged user must have. Tests and benches use it to show that a migration lost no
// write and failed no request. It talks to loopback addresses only and keeps no state
// between runs.
package userload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Config describes one run.
type Config struct {
	// URL is the app's (or the proxy's) base URL, e.g. http://127.0.0.1:8080; loopback only.
	URL string
	// Rate is tasks per second (each task is two requests), scheduled evenly, open loop.
	Rate int
	// Duration stops scheduling after this long, MaxTasks after this many tasks (at least
	// one must be set), Run's ctx at once. Tasks in flight always finish.
	Duration time.Duration
	MaxTasks int
	// Workers caps tasks in flight (default 32); a task due while all are busy is dropped
	// and counted in Report.Dropped.
	Workers int
	// Timeout bounds each request (default 5s).
	Timeout time.Duration
	// Seed says that users 1..Seed exist before the run: then every fourth task renames one
	// of them, picked at random, instead of a user the run created.
	Seed int64
}

// ErrNotLoopback is returned (wrapped) for a URL whose host is not loopback.
var ErrNotLoopback = errors.New("not a loopback address")

func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return c, fmt.Errorf("url: %w", err)
	case u.Scheme != "http":
		return c, fmt.Errorf("url %q: scheme must be http", c.URL)
	case !isLoopback(u.Hostname()):
		return c, fmt.Errorf("url %q: %w", c.URL, ErrNotLoopback)
	case c.Rate <= 0:
		return c, fmt.Errorf("rate %d: must be above 0", c.Rate)
	case c.Duration < 0 || c.MaxTasks < 0 || c.Workers < 0 || c.Timeout < 0 || c.Seed < 0:
		return c, errors.New("duration, max tasks, workers, timeout and seed must not be negative")
	case c.Duration == 0 && c.MaxTasks == 0:
		return c, errors.New("duration or max tasks: set at least one, so the run is bounded")
	}
	if c.Workers == 0 {
		c.Workers = 32
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	return c, nil
}

// Run schedules tasks per cfg until Duration passes, MaxTasks are scheduled or ctx ends, waits
// for the tasks in flight and returns the report. It returns an error only for a bad cfg.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, fmt.Errorf("userload: %w", err)
	}
	d := &driver{url: cfg.URL, timeout: cfg.Timeout, seed: cfg.Seed, client: newClient(cfg), st: newState()}
	defer d.client.CloseIdleConnections()
	start := time.Now()
	sem := make(chan struct{}, cfg.Workers)
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var i int64
	for ; cfg.MaxTasks == 0 || i < int64(cfg.MaxTasks); i++ {
		offset := time.Duration(i * int64(time.Second) / int64(cfg.Rate))
		if cfg.Duration > 0 && offset >= cfg.Duration {
			break
		}
		if wait := time.Until(start.Add(offset)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		seq := i
		select {
		case sem <- struct{}{}:
			wg.Go(func() {
				defer func() { <-sem }()
				d.task(seq)
			})
		default:
			d.st.drop()
		}
	}
	wg.Wait()
	rep := d.st.report()
	rep.Tasks = int(i)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: loopbackOnly}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConns: cfg.Workers,
		MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// loopbackOnly refuses a resolved address that is not loopback.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, ErrNotLoopback)
	}
	return nil
}
