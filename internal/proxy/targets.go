package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Target is one instance the proxy can send requests to.
type Target struct {
	// ID identifies the instance across SetTargets calls; a target that keeps its ID (and Addr)
	// keeps its connections, counters and in-flight count.
	ID string
	// Addr is the instance's host:port.
	Addr string
}

// Group is the targets of one revision and the share of traffic it gets.
type Group struct {
	Revision int
	Weight   int
	Targets  []Target
	// Role is "stable", "canary", "baseline" or "" (unknown). It places the group for the
	// route's CanaryRouting and labels the revision's metrics; a revision keeps its counters
	// when its role changes.
	Role string
}

const (
	dialTimeout         = 5 * time.Second
	idleConnTimeout     = 90 * time.Second
	maxIdleConnsPerHost = 256
	drainPoll           = 5 * time.Millisecond
)

// target is one instance in the registry, shared by every route table that routes to it.
type target struct {
	id, addr, service string
	inflight          atomic.Int64
	ejectUntil        atomic.Int64 // Proxy.now() before which the target is passed over
	removed           atomic.Bool  // no longer in its service's traffic
	transport         atomic.Pointer[upstream]
	retired           []*upstream // replaced after a timeout change; guarded by Proxy.mu
}

// ejected reports whether t is ejected at now; now < 0 ignores ejection.
func (t *target) ejected(now int64) bool {
	return now >= 0 && now < t.ejectUntil.Load()
}

// closeIdle closes the idle upstream connections of every transport t has had.
func (t *target) closeIdle() {
	t.transport.Load().CloseIdleConnections()
	for _, tr := range t.retired {
		tr.CloseIdleConnections()
	}
}

// dialError marks an error from dialing a target: nothing was sent, so a retry is safe.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

var dialer = &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}

func dialTarget(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &dialError{err: err}
	}
	return c, nil
}

// newTransport returns the standard transport of one target, for the requests its upstream
// client does not send itself: keep-alive, HTTP/1.1 only, no compression and no environment
// proxy.
func newTransport(headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           dialTarget,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// SetTargets atomically replaces the service's traffic. Each group gets Weight / the sum of
// the weights of the groups that have targets; a group without targets gets nothing; if those
// weights are all 0, traffic is spread by target count. preview (0 = none) is the revision that
// preview requests reach. It is one atomic swap: no reload, no dropped connection; in-flight
// requests on removed targets continue, removed targets' idle connections are closed at once
// and the rest when their last request ends or Drain is called.
func (p *Proxy) SetTargets(service string, groups []Group, preview int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slot(service)
	old := s.traffic.Load()
	tr := &traffic{}
	kept := make(map[*target]bool)
	for _, g := range groups {
		if len(g.Targets) == 0 {
			continue
		}
		grp := &group{rev: p.revStats(service, g.Revision), role: g.Role}
		grp.rev.role = roleLabel(g.Role)
		for _, t := range g.Targets {
			tg := p.ensureTarget(s, t)
			grp.targets = append(grp.targets, tg)
			if !kept[tg] {
				kept[tg] = true
				tr.all = append(tr.all, tg)
			}
		}
		tr.groups = append(tr.groups, grp)
		tr.weights = append(tr.weights, max(g.Weight, 0))
		if preview != 0 && g.Revision == preview && tr.preview == nil {
			tr.preview = grp
		}
	}
	tr.computeWeights()
	s.traffic.Store(tr)
	if len(tr.groups) > 0 {
		s.emptyWarned.Store(false)
	}
	for _, t := range old.all {
		if !kept[t] {
			p.retire(t)
		}
	}
	p.sweep()
}

// ensureTarget returns the registry entry for t, creating it. Callers hold p.mu.
func (p *Proxy) ensureTarget(s *serviceSlot, t Target) *target {
	service := s.name
	if tg := p.targets[t.ID]; tg != nil {
		if tg.addr == t.Addr && tg.service == service {
			tg.removed.Store(false)
			return tg
		}
		p.retire(tg) // same ID, new address: a new target
	}
	tg := &target{id: t.ID, addr: t.Addr, service: service}
	tg.transport.Store(newUpstream(t.Addr, s.timeout, s.h2c))
	p.targets[t.ID] = tg
	return tg
}

// retire marks t removed and closes its idle connections. Callers hold p.mu.
func (p *Proxy) retire(t *target) {
	t.removed.Store(true)
	t.closeIdle()
}

// sweep drops removed targets with nothing in flight from the registry. Callers hold p.mu.
func (p *Proxy) sweep() {
	for id, t := range p.targets {
		if t.removed.Load() && t.inflight.Load() == 0 {
			t.closeIdle()
			delete(p.targets, id)
		}
	}
}

// retimeTargets gives the service's targets transports with its new timeout or protocol. The old
// transports keep serving their in-flight requests. Callers hold p.mu.
func (p *Proxy) retimeTargets(s *serviceSlot) {
	for _, t := range p.targets {
		if t.service != s.name {
			continue
		}
		old := t.transport.Swap(newUpstream(t.addr, s.timeout, s.h2c))
		old.CloseIdleConnections()
		t.retired = append(t.retired, old)
	}
}

// Drain waits until the target has no request in flight, or ctx is done, or timeout (if > 0)
// has passed; then it closes the target's idle upstream connections and, if SetTargets removed
// it, forgets it. It returns an error naming the requests still in flight if it gave up. A
// target the proxy does not know has nothing in flight.
func (p *Proxy) Drain(ctx context.Context, targetID string, timeout time.Duration) error {
	p.mu.Lock()
	t := p.targets[targetID]
	p.mu.Unlock()
	if t == nil {
		return nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var err error
	if t.inflight.Load() > 0 {
		tick := time.NewTicker(drainPoll)
		defer tick.Stop()
		for t.inflight.Load() > 0 && err == nil {
			select {
			case <-ctx.Done():
				err = fmt.Errorf("drain %s: %d requests in flight: %w", targetID, t.inflight.Load(), ctx.Err())
			case <-tick.C:
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.closeIdle()
	p.sweep()
	return err
}

// InFlight returns the number of requests the target is serving now (0 if unknown).
func (p *Proxy) InFlight(targetID string) int {
	p.mu.Lock()
	t := p.targets[targetID]
	p.mu.Unlock()
	if t == nil {
		return 0
	}
	return int(t.inflight.Load())
}
