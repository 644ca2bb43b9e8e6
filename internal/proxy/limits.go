package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// Limits bound what one route's requests may take from the proxy and its instances. The zero
// value limits nothing; the server-wide limits (header size and read time, idle connections)
// are in Config.
type Limits struct {
	// MaxBody caps a request body in bytes: a larger Content-Length gets 413 before anything
	// is sent upstream, and a chunked body is cut (413, upstream request aborted) once it
	// passes the cap. 0 means no cap.
	MaxBody int64
	// MaxConcurrency caps the route's requests in flight; more wait in a queue for up to
	// QueueTimeout, then get 503 with Retry-After. 0 means no cap.
	MaxConcurrency int
	// QueueTimeout is how long a request over MaxConcurrency waits for a slot; 0 means it
	// does not wait.
	QueueTimeout time.Duration
}

func (l Limits) validate() []error {
	var errs []error
	if l.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("max body %d is negative", l.MaxBody))
	}
	if l.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("max concurrency %d is negative", l.MaxConcurrency))
	}
	if l.QueueTimeout < 0 {
		errs = append(errs, fmt.Errorf("queue timeout %v is negative", l.QueueTimeout))
	}
	return errs
}

// limiter enforces one route's Limits. A new limiter replaces the old one when the limits
// change; requests admitted by the old one give their slot back to it.
type limiter struct {
	Limits
	slots   chan struct{} // nil: no concurrency cap
	waiting atomic.Int64  // requests in the queue
}

func newLimiter(l Limits) *limiter {
	if l == (Limits{}) {
		return nil
	}
	lim := &limiter{Limits: l}
	if l.MaxConcurrency > 0 {
		lim.slots = make(chan struct{}, l.MaxConcurrency)
	}
	return lim
}

// setLimits installs the route's limits on its service slot. Callers hold Proxy.mu.
func (s *serviceSlot) setLimits(l Limits) {
	if cur := s.limits.Load(); cur != nil && cur.Limits == l {
		return
	}
	s.limits.Store(newLimiter(l))
}

// admit applies the limits to r before it is forwarded: it refuses a body over MaxBody (413)
// and waits for a concurrency slot (503 when QueueTimeout passes first). When it reports
// true the caller must call leave once the request is done; when false the client has its
// answer.
func (l *limiter) admit(p *Proxy, w http.ResponseWriter, r *http.Request, reqID []string) bool {
	if l.MaxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > l.MaxBody {
			tooLarge(p, w, reqID)
			return false
		}
		if r.ContentLength < 0 {
			// No ResponseWriter: the body is read by the upstream transport's goroutine, and
			// MaxBytesReader would touch w's headers from there while the handler writes
			// them. tooLarge closes the connection itself.
			r.Body = http.MaxBytesReader(nil, r.Body, l.MaxBody)
		}
	}
	if l.slots == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.QueueTimeout > 0 {
		l.waiting.Add(1)
		defer l.waiting.Add(-1)
		t := time.NewTimer(l.QueueTimeout)
		defer t.Stop()
		select {
		case l.slots <- struct{}{}:
			return true
		case <-t.C:
		case <-r.Context().Done():
			return false // the client went away; nobody to answer
		}
	}
	w.Header()["Retry-After"] = valRetry1
	p.plain(w, http.StatusServiceUnavailable, "too many requests in flight\n", reqID)
	return false
}

// leave gives back the slot admit took.
func (l *limiter) leave() {
	if l.slots != nil {
		<-l.slots
	}
}

// tooLarge answers 413 and closes the connection: the unread body must not be taken for the
// next request.
func tooLarge(p *Proxy, w http.ResponseWriter, reqID []string) {
	w.Header()["Connection"] = valClose
	p.plain(w, http.StatusRequestEntityTooLarge, "request body too large\n", reqID)
}

// bodyTooLarge reports whether err comes from a request body cut at Limits.MaxBody.
func bodyTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
