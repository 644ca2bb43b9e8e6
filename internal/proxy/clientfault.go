package proxy

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Only the app's own failures count against its revision. The canary judge and passive health
// read the proxy's counters, so a client that can make a request fail without the app failing
// (go away, cut or malform its body, stall it until the app gives up) could otherwise roll a
// healthy canary back or eject a healthy instance. Such failures are answered, counted apart
// (Counts.ClientErrors) and never eject.

// requestBody is a client's request body as the upstream transport reads it. It lets the body
// survive a failed connect (the transport closes the body it was given even when it never read
// it, and a retry needs it open), and it records how the client's side of the copy went, so
// that forward can tell a client's fault from the app's.
type requestBody struct {
	rc  io.ReadCloser
	now func() int64 // Proxy.now
	// read: a Read was called, the body may have reached the upstream. failed: a Read
	// returned an error other than EOF: the client cut, malformed or overfilled its body.
	read, failed atomic.Bool
	// waitStart is 1 + when the pending Read began (0: none pending); maxWait the longest a
	// finished Read waited for the client. Reads come from one goroutine at a time.
	waitStart, maxWait atomic.Int64
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	start := b.now()
	b.waitStart.Store(start + 1)
	n, err := b.rc.Read(p)
	b.waitStart.Store(0)
	if w := b.now() - start; w > b.maxWait.Load() {
		b.maxWait.Store(w)
	}
	if err != nil && err != io.EOF {
		b.failed.Store(true)
	}
	return n, err
}

// Close does nothing: the server closes the inbound body when the handler returns.
func (b *requestBody) Close() error { return nil }

// stalled reports whether the client once left a Read of its body waiting for at least d,
// the Read pending at now included.
func (b *requestBody) stalled(now int64, d time.Duration) bool {
	if s := b.waitStart.Load(); s != 0 && now-(s-1) >= int64(d) {
		return true
	}
	return b.maxWait.Load() >= int64(d)
}

// clientFault handles a failed exchange that the client caused, and reports whether it did:
// its body failed to read (413 over the route's cap, else 400: a client that half-closed or
// cut its body may still read it), or it went away (the connection is closed without an
// answer rather than with the empty 200 a handler that writes nothing gets). The failure is
// counted as the revision's ClientErrors, nothing else.
func (p *Proxy) clientFault(w http.ResponseWriter, r *http.Request, x *exchange, body *requestBody, err error) bool {
	switch {
	case body != nil && body.failed.Load():
		x.g.rev.clientErrors.Add(1)
		p.logger.Debug("request body failed", "service", x.entry.svc.name, "instance", x.t.id, "error", err)
		w.Header()["Connection"] = valClose // the rest of the body is never read
		if bodyTooLarge(err) {
			p.plain(w, http.StatusRequestEntityTooLarge, "request body too large\n", x.reqID)
		} else {
			p.plain(w, http.StatusBadRequest, "bad request body\n", x.reqID)
		}
		return true
	case r.Context().Err() != nil:
		x.g.rev.clientErrors.Add(1)
		panic(http.ErrAbortHandler)
	}
	return false
}

// clientStalled answers a request whose upstream failed after its client had stalled its body
// for Config.ClientStall: 408, counted as the revision's ClientErrors, nothing else.
func (p *Proxy) clientStalled(w http.ResponseWriter, x *exchange, err error) {
	x.g.rev.clientErrors.Add(1)
	p.logger.Debug("request body stalled", "service", x.entry.svc.name, "instance", x.t.id, "error", err)
	w.Header()["Connection"] = valClose
	p.plain(w, http.StatusRequestTimeout, "request body stalled\n", x.reqID)
}
