// Package loadgen sends HTTP requests at a constant rate to a loopback URL and counts every
// outcome exactly: sent, ok, failed (by kind and status), dropped by the generator itself,
// responses by X-Version, and latency percentiles. Tests, benchmarks and `cutover demo` use
// it to prove that a deployment failed no request. It refuses any address that is not
// loopback and never follows redirects; it keeps no state between runs.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Config describes one run. Rate is required; Duration, MaxRequests and Run's ctx each end it.
type Config struct {
	// URL is the target; its host must be 127.0.0.0/8, ::1 or localhost.
	URL string
	// Rate is requests per second, scheduled evenly (open loop: a slow answer does not delay
	// the next request).
	Rate int
	// Duration stops scheduling after this long; 0 means no limit.
	Duration time.Duration
	// MaxRequests stops after this many scheduled requests (sent or dropped); 0 means no limit.
	MaxRequests int
	// Workers caps requests in flight; a request scheduled while all are busy is counted as
	// GeneratorDropped and not sent. Default 64.
	Workers int
	// Timeout bounds each request, from sending to the end of the body. Default 5s.
	Timeout time.Duration
	// Header is sent with each request; a "Host" entry sets the request's Host.
	Header http.Header
	// Method defaults to GET.
	Method string
	// FailStatus says which statuses are failures. Default: status >= 500.
	FailStatus func(status int) bool
}

// ErrNotLoopback is returned (wrapped) for a URL or address that is not loopback.
var ErrNotLoopback = errors.New("not a loopback address")

// Defaults used for zero Config fields.
const (
	DefaultWorkers = 64
	DefaultTimeout = 5 * time.Second
)

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return c, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return c, fmt.Errorf("url %q: scheme must be http or https", c.URL)
	}
	if !isLoopbackHost(u.Hostname()) {
		return c, fmt.Errorf("url %q: %w", c.URL, ErrNotLoopback)
	}
	switch {
	case c.Rate <= 0:
		return c, fmt.Errorf("rate %d: must be above 0", c.Rate)
	case c.Duration < 0:
		return c, fmt.Errorf("duration %s: must not be negative", c.Duration)
	case c.MaxRequests < 0:
		return c, fmt.Errorf("max requests %d: must not be negative", c.MaxRequests)
	case c.Workers < 0 || c.Timeout < 0:
		return c, errors.New("workers and timeout must not be negative")
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if c.FailStatus == nil {
		c.FailStatus = func(status int) bool { return status >= 500 }
	}
	return c, nil
}

// Run sends requests per cfg until Duration passes, MaxRequests are scheduled or ctx ends,
// waits for those in flight (ctx's end aborts them; they count as Canceled, not Failed) and
// returns the tally. It calls onResult (if not nil) once per scheduled request, one call at
// a time, from Run's goroutines; it must be quick, e.g. (*Tally).Add for a live display.
// Run returns an error only for an invalid cfg.
func Run(ctx context.Context, cfg Config, onResult func(Result)) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, fmt.Errorf("loadgen: %w", err)
	}
	tmpl, err := http.NewRequest(cfg.Method, cfg.URL, nil)
	if err != nil {
		return Summary{}, fmt.Errorf("loadgen: %w", err)
	}
	for k, v := range cfg.Header {
		tmpl.Header[http.CanonicalHeaderKey(k)] = v
	}
	if h := tmpl.Header.Get("Host"); h != "" {
		tmpl.Host = h
		tmpl.Header.Del("Host")
	}
	tr := newTransport(cfg)
	defer tr.CloseIdleConnections()
	s := &sender{
		cfg:    cfg,
		tmpl:   tmpl,
		client: &http.Client{Transport: tr, CheckRedirect: noRedirect},
	}

	tally := NewTally()
	var mu sync.Mutex
	report := func(r Result) {
		tally.Add(r)
		if onResult != nil {
			mu.Lock()
			defer mu.Unlock()
			onResult(r)
		}
	}
	start := time.Now()
	sem := make(chan struct{}, cfg.Workers)
	var wg sync.WaitGroup
	schedule(ctx, start, cfg.Rate, cfg.Duration, cfg.MaxRequests, func(seq int64, at time.Time) {
		select {
		case sem <- struct{}{}:
			wg.Go(func() {
				defer func() { <-sem }()
				report(s.send(ctx, seq, at))
			})
		default:
			report(Result{Seq: seq, Scheduled: at, Dropped: true})
		}
	})
	wg.Wait()
	sum := tally.Snapshot()
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// schedule calls dispatch for request i at start + i/rate, catching up at once when it
// runs late, until duration (if > 0) or maxRequests (if > 0) is reached or ctx ends.
// Times come from the schedule, not from a ticker, so no tick is ever merged or lost.
func schedule(ctx context.Context, start time.Time, rate int, duration time.Duration, maxRequests int,
	dispatch func(seq int64, at time.Time)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := int64(0); maxRequests == 0 || i < int64(maxRequests); i++ {
		offset := time.Duration(i * int64(time.Second) / int64(rate))
		if duration > 0 && offset >= duration {
			return
		}
		at := start.Add(offset)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		dispatch(i, at)
	}
}
