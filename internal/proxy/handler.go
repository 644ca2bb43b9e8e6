package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// listenerHandler serves the requests that arrive on one listener.
type listenerHandler struct {
	p    *Proxy
	slot int
	tls  bool // the listener serves TLS
}

// exchange is one proxied request's routing state.
type exchange struct {
	entry    *pathEntry
	tr       *traffic
	g        *group
	t        *target
	start    int64
	reqID    []string
	upgrade  string
	bound    bool   // bound to the preview revision: no retry outside it
	endpoint string // the route's endpoint the request belongs to, "" for none
}

func (h *listenerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := h.p
	g := guardOf(r.Context())
	if g.ambiguous() || h2Ambiguous(r) {
		w.Header()["Connection"] = valClose
		p.plain(w, http.StatusBadRequest, "ambiguous request\n", nil)
		return
	}
	if h.tls {
		withTLS(r, g)
	}
	if !h.tls && p.cfg.Certs != nil && strings.HasPrefix(r.URL.Path, acmeChallengePrefix) && p.cfg.Certs.ServeChallenge(w, r) {
		return
	}
	x := exchange{start: p.now()}
	x.reqID, x.upgrade = p.rewriteRequest(r)
	x.entry = p.table.Load().lookup(h.slot, r.Host, r.URL.Path)
	if x.entry == nil {
		p.plain(w, http.StatusNotFound, "no route\n", x.reqID)
		return
	}
	if x.entry.isRedirect {
		p.redirect(w, r, x.entry, x.reqID)
		return
	}
	x.endpoint = x.entry.endpoints.match(r.Method, r.URL.Path, "") // by path and method until the answer says more
	if x.entry.svc.pause.Load() != nil && !p.hold(w, r, x.entry.svc, x.reqID) {
		return
	}
	if lim := x.entry.svc.limits.Load(); lim != nil {
		if !lim.admit(p, w, r, x.reqID) {
			return
		}
		defer lim.leave()
	}
	x.tr = x.entry.svc.traffic.Load()
	previewReq := x.entry.preview || (x.entry.previewHeader != "" && len(r.Header[x.entry.previewHeader]) > 0)
	x.bound = previewReq && x.tr.preview != nil
	c := x.entry.choice(r, previewReq)
	x.g, x.t = x.tr.choose(&c, x.start)
	if x.t == nil {
		if x.entry.svc.emptyWarned.CompareAndSwap(false, true) {
			p.logger.Warn("service has no target", "service", x.entry.svc.name, "preview", previewReq)
		}
		w.Header()["Retry-After"] = valRetry1
		p.plain(w, http.StatusServiceUnavailable, "no target available\n", x.reqID)
		return
	}
	p.forward(w, r, &x)
}

// forward sends the request to x.t, retrying once on another target when the connection
// could not be made and the request may be repeated, and writes the answer to w. A failure
// is the revision's (counted, and for a refused connect or a timeout the target ejected) only
// when the app caused it: a client that went away, whose body failed to read (cut, malformed,
// over the cap) or that stalled its body for Config.ClientStall is counted apart
// (Counts.ClientErrors) and never ejects a target.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, x *exchange) {
	out := newOutbound(r)
	var body *requestBody
	if r.Body != nil && r.Body != http.NoBody {
		// The transport reads the body in its own goroutine, which may still be at it (if only
		// for the final read that sees EOF) when the upstream's answer arrives. By default the
		// HTTP/1 server, at the first byte of our answer, reads the rest of the body itself and
		// closes it: the transport's next read then fails, it closes the upstream connection
		// and the answer being copied is cut. Full duplex leaves the body to the transport.
		_ = http.NewResponseController(w).EnableFullDuplex() // HTTP/2 is always full duplex
		body = &requestBody{rc: r.Body, now: p.now}
		out.Body = body
	}
	for attempt := 0; ; attempt++ {
		out.URL.Host = x.t.addr
		g, t := x.g, x.t
		t.inflight.Add(1)
		g.rev.inflight.Add(1)
		resp, err := t.transport.Load().RoundTrip(out)
		if err == nil {
			p.respond(w, r, resp, x)
			return
		}
		release(g, t)
		if p.clientFault(w, r, x, body, err) {
			return
		}
		var de *dialError
		dialFailed := errors.As(err, &de)
		switch {
		case dialFailed:
			g.rev.connectErrors.Add(1)
			p.eject(t)
		case isTimeout(err):
			// A target that accepts but does not answer is passed over like one that refuses.
			g.rev.timeouts.Add(1)
			p.eject(t)
			p.fail(w, x, http.StatusGatewayTimeout, "upstream timed out\n", err)
			return
		case body != nil && body.stalled(p.now(), p.cfg.ClientStall):
			p.clientStalled(w, x, err)
			return
		}
		// Nothing of the answer reached the client yet: a request that may be repeated is
		// retried once elsewhere, whether the target refused it or died while serving it.
		if attempt == 0 && retryable(r) && (body == nil || !body.read.Load()) {
			if ng, nt := x.tr.retry(g, t, x.entry.roundRobin, x.bound, p.now()); nt != nil {
				x.g, x.t = ng, nt
				continue
			}
		}
		if dialFailed {
			p.fail(w, x, http.StatusBadGateway, "upstream unavailable\n", err)
		} else {
			p.fail(w, x, http.StatusBadGateway, "upstream error\n", err)
		}
		return
	}
}

// release ends one request on t. The last request on a removed target closes its idle
// connections so that nothing is left open to an instance about to stop.
func release(g *group, t *target) {
	g.rev.inflight.Add(-1)
	if t.inflight.Add(-1) == 0 && t.removed.Load() {
		t.transport.Load().CloseIdleConnections()
	}
}

// respond writes the upstream's response to the client, then ends the request on x.t.
func (p *Proxy) respond(w http.ResponseWriter, r *http.Request, resp *http.Response, x *exchange) {
	defer release(x.g, x.t)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		p.switchProtocols(w, resp, x)
		return
	}
	grpc := isGRPC(resp)
	x.entry.endpoints.fromResponse(x, r, resp.Header)
	if !grpc {
		x.g.rev.observe(resp.StatusCode, p.now()-x.start, x.endpoint)
	}
	h := w.Header()
	copyResponseHeader(h, resp.Header, resp.Trailer)
	h[p.cfg.RequestIDHeader] = x.reqID
	if x.entry.hsts != nil {
		h["Strict-Transport-Security"] = x.entry.hsts
	}
	w.WriteHeader(resp.StatusCode)
	stream := resp.ContentLength == -1 || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	var f http.Flusher
	if stream {
		f, _ = w.(http.Flusher)
		if f != nil {
			f.Flush()
		}
	}
	werr, rerr := copyBody(w, resp.Body, f)
	if grpc {
		x.g.rev.observe(p.grpcStatus(r, resp, werr, rerr), p.now()-x.start, x.endpoint)
	}
	if werr != nil {
		return // the client went away
	}
	if rerr != nil && r.Context().Err() == nil {
		p.logger.Debug("upstream body cut", "service", x.entry.svc.name, "instance", x.t.id, "error", rerr)
		// Abort the client's response so that it is not mistaken for a complete one.
		panic(http.ErrAbortHandler)
	}
	copyTrailers(h, resp.Trailer)
}

// grpcStatus is the status a gRPC answer counts as once its body is copied: a cut the client
// caused (it went away or cancelled) is a client error, one the upstream caused a 502.
func (p *Proxy) grpcStatus(r *http.Request, resp *http.Response, werr, rerr error) int {
	switch {
	case werr != nil || r.Context().Err() != nil:
		return 499
	case rerr != nil:
		return http.StatusBadGateway
	}
	return grpcOutcome(resp)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyBody copies body to w with a pooled buffer, flushing after each write when f is set.
// It returns the write error or the read error.
func copyBody(w io.Writer, body io.Reader, f http.Flusher) (werr, rerr error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr = w.Write(buf[:n]); werr != nil {
				return werr, nil
			}
			if f != nil {
				f.Flush()
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// eject passes t over for Config.EjectDuration after it refused a connection.
func (p *Proxy) eject(t *target) {
	if p.cfg.EjectDuration < 0 {
		return
	}
	now := p.now()
	if !t.ejected(now) {
		p.logger.Warn("target ejected", "service", t.service, "instance", t.id, "addr", t.addr, "duration", p.cfg.EjectDuration)
	}
	t.ejectUntil.Store(now + int64(p.cfg.EjectDuration))
}

// fail answers the client on the upstream's behalf and counts it.
func (p *Proxy) fail(w http.ResponseWriter, x *exchange, code int, msg string, err error) {
	x.g.rev.observe(code, p.now()-x.start, x.endpoint)
	p.logger.Debug("upstream failed", "service", x.entry.svc.name, "instance", x.t.id, "status", code, "error", err)
	p.plain(w, code, msg, x.reqID)
}

// plain writes a short text answer.
func (p *Proxy) plain(w http.ResponseWriter, code int, msg string, reqID []string) {
	h := w.Header()
	h["Content-Type"] = valText
	h["X-Content-Type-Options"] = valNosniff
	h[p.cfg.RequestIDHeader] = reqID
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}

// retryable reports whether a request may be sent twice.
func retryable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return len(r.Header["Idempotency-Key"]) > 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// outbound holds the upstream request and its URL in one allocation.
type outbound struct {
	req http.Request
	url url.URL
}

// newOutbound returns a shallow copy of the inbound request fit for a transport. It shares the
// inbound header and body.
func newOutbound(r *http.Request) *http.Request {
	o := new(outbound)
	o.req = *r
	o.url = *r.URL
	o.url.Scheme = "http"
	o.req.URL = &o.url
	o.req.RequestURI = ""
	o.req.Close = false
	return &o.req
}
