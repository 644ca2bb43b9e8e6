package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"syscall"
	"time"
)

// sample is one request of a tight loop; times are offsets from the loop's base.
type sample struct {
	start, end time.Duration
	version    string
	failed     bool
	canceled   bool // in flight when the loop stopped: no answer, not a failure
}

// answered reports whether the request got a non-failing response.
func (s sample) answered() bool { return !s.failed && !s.canceled }

// tightLoop sends back-to-back GETs from a few workers, each on its own keep-alive
// connection, and records when each request started and which version answered.
type tightLoop struct {
	base   time.Time
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	out    []sample
}

// startLoop starts workers sending to rawURL until stop is called, limit passes or each has
// sent maxPerWorker requests.
func startLoop(ctx context.Context, rawURL string, workers, maxPerWorker int, limit time.Duration, base time.Time) (*tightLoop, error) {
	if err := loopbackURL(rawURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	l := &tightLoop{base: base, cancel: cancel}
	for range workers {
		client := &http.Client{Transport: loopTransport(1), Timeout: 5 * time.Second}
		l.wg.Go(func() {
			defer client.CloseIdleConnections()
			mine := make([]sample, 0, min(maxPerWorker, 1<<16))
			for len(mine) < maxPerWorker && ctx.Err() == nil {
				mine = append(mine, l.one(ctx, client, rawURL))
			}
			l.mu.Lock()
			l.out = append(l.out, mine...)
			l.mu.Unlock()
		})
	}
	return l, nil
}

func (l *tightLoop) one(ctx context.Context, client *http.Client, rawURL string) sample {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	s := sample{start: time.Since(l.base)}
	resp, err := client.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		s.version = resp.Header.Get("X-Version")
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	switch {
	case err != nil && ctx.Err() != nil:
		s.canceled = true
	case err != nil || status >= 500:
		s.failed = true
	}
	s.end = time.Since(l.base)
	return s
}

// stop ends the loop and returns every sample, sorted by start.
func (l *tightLoop) stop() []sample {
	l.cancel()
	l.wg.Wait()
	slices.SortFunc(l.out, func(a, b sample) int { return int(a.start - b.start) })
	return l.out
}

// loopTransport is a keep-alive transport with at most conns connections that dials only
// loopback addresses.
func loopTransport(conns int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			return fmt.Errorf("dial %s: not a loopback address", address)
		}
		return nil
	}}
	return &http.Transport{DialContext: d.DialContext, MaxIdleConns: conns, MaxIdleConnsPerHost: conns,
		MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
}

// loopbackURL refuses any URL whose host is not a loopback IP.
func loopbackURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("url %q: %w", rawURL, err)
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("url %q: not a loopback address", rawURL)
	}
	return nil
}
