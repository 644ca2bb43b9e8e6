package proxy

import (
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultPauseQueue bounds the requests held by a paused service when Pause is given 0.
const DefaultPauseQueue = 10_000

// pauseGate holds a paused service's new requests until Resume (done closed) or each one's
// timeout, whichever comes first.
type pauseGate struct {
	done    chan struct{}
	timeout time.Duration
	max     int64
	waiting atomic.Int64
}

// Pause holds the service's new requests (queued, not refused) until Resume: each waits up to
// timeout, then gets 503 with Retry-After; beyond maxQueue waiting (0: DefaultPauseQueue) a
// request gets that 503 at once. Requests already forwarded are not affected. Pausing a paused
// service changes its timeout and bound for the requests that arrive from then on.
func (p *Proxy) Pause(service string, timeout time.Duration, maxQueue int) {
	if maxQueue <= 0 {
		maxQueue = DefaultPauseQueue
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slot(service)
	g := &pauseGate{done: make(chan struct{}), timeout: timeout, max: int64(maxQueue)}
	if old := s.pause.Swap(g); old != nil {
		close(old.done) // its waiters go on through the new gate
	}
}

// Resume releases the service's held requests in arrival order of their wake-ups and lets new
// ones through; a no-op when it is not paused.
func (p *Proxy) Resume(service string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.services[service]
	if s == nil {
		return
	}
	if g := s.pause.Swap(nil); g != nil {
		close(g.done)
	}
}

// Paused reports whether the service's traffic is paused.
func (p *Proxy) Paused(service string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.services[service]
	return s != nil && s.pause.Load() != nil
}

// hold waits while the service is paused. It reports false, having answered 503, when the
// wait timed out or the queue is full, and false without answering when the client left.
func (p *Proxy) hold(w http.ResponseWriter, r *http.Request, s *serviceSlot, reqID []string) bool {
	var timer *time.Timer
	for {
		g := s.pause.Load()
		if g == nil {
			return true
		}
		if g.waiting.Add(1) > g.max {
			g.waiting.Add(-1)
			p.paused(w, reqID)
			return false
		}
		if timer == nil {
			timer = time.NewTimer(g.timeout)
			defer timer.Stop()
		}
		select {
		case <-g.done:
			g.waiting.Add(-1)
			continue // resumed, or paused again with new settings
		case <-timer.C:
			g.waiting.Add(-1)
			p.paused(w, reqID)
			return false
		case <-r.Context().Done():
			g.waiting.Add(-1)
			return false
		}
	}
}

func (p *Proxy) paused(w http.ResponseWriter, reqID []string) {
	w.Header()["Retry-After"] = valRetry1
	p.plain(w, http.StatusServiceUnavailable, "service paused\n", reqID)
}
