package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// upstream is one target's HTTP/1.1 client. A request without a body or an upgrade goes over
// the upstream's own pool of persistent connections, written and read on the caller's
// goroutine: no per-connection goroutines and no channel hand-offs, which is most of what
// http.Transport costs a proxy. Every other request (a body to stream, a protocol switch) goes
// through a standard http.Transport, which keeps full-duplex bodies and hijackable upgrades.
// Its methods are safe for concurrent use.
type upstream struct {
	addr          string
	headerTimeout time.Duration
	std           *http.Transport
	h2c           bool // every request goes through std, in HTTP/2 without TLS

	mu    sync.Mutex
	idle  []*upConn // most recently used last
	armed bool      // a sweep of stale idle connections is scheduled
}

// maxResponseHeader bounds the bytes of an upstream's status line and headers.
const maxResponseHeader = 1 << 20

// newUpstream returns the client of the target at addr. It starts no goroutine.
func newUpstream(addr string, headerTimeout time.Duration, h2c bool) *upstream {
	u := &upstream{addr: addr, headerTimeout: headerTimeout, std: newTransport(headerTimeout), h2c: h2c}
	if h2c {
		u.std.Protocols = new(http.Protocols)
		u.std.Protocols.SetUnencryptedHTTP2(true)
	}
	return u
}

// RoundTrip sends req and returns the upstream's response, whose body the caller must close.
// A connection error before anything was sent is a *dialError.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if u.h2c || !direct(req) {
		return u.std.RoundTrip(req)
	}
	for {
		c, reused, err := u.get(req.Context())
		if err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		// A kept-alive connection the upstream closed meanwhile fails before any answer:
		// send again on another one, as http.Transport does.
		var se *staleError
		if reused && errors.As(err, &se) && req.Context().Err() == nil && (se.unsent || replayable(req)) {
			continue
		}
		return nil, err
	}
}

// CloseIdleConnections closes the idle connections of both pools.
func (u *upstream) CloseIdleConnections() {
	u.mu.Lock()
	idle := u.idle
	u.idle = nil
	u.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
	u.std.CloseIdleConnections()
}

// direct reports whether req can take the upstream's own connections: no body and no upgrade.
func direct(req *http.Request) bool {
	return (req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		len(req.Header["Upgrade"]) == 0 && req.Method != http.MethodConnect
}

// replayable reports whether a request may be sent again after the upstream may have seen
// it: a retryable one, or one that http.Transport would also replay (TRACE, or an
// X-Idempotency-Key).
func replayable(req *http.Request) bool {
	return retryable(req) || req.Method == http.MethodTrace || len(req.Header["X-Idempotency-Key"]) > 0
}

// get returns an idle connection (reused) or dials a new one.
func (u *upstream) get(ctx context.Context) (c *upConn, reused bool, err error) {
	now := time.Now()
	u.mu.Lock()
	for n := len(u.idle); n > 0; n = len(u.idle) {
		c = u.idle[n-1]
		u.idle[n-1] = nil
		u.idle = u.idle[:n-1]
		if now.Sub(c.idleAt) < idleConnTimeout {
			u.mu.Unlock()
			return c, true, nil
		}
		c.nc.Close() // idle too long; the ones below it are older still
	}
	u.mu.Unlock()
	nc, err := dialTarget(ctx, "tcp", u.addr)
	if err != nil {
		return nil, false, err
	}
	c = &upConn{u: u, nc: nc}
	c.br = bufio.NewReaderSize(limitedConn{c}, 4<<10)
	return c, false, nil
}

// put keeps c for the next request, or closes it when the pool is full.
func (u *upstream) put(c *upConn) {
	c.idleAt = time.Now()
	u.mu.Lock()
	if len(u.idle) >= maxIdleConnsPerHost {
		u.mu.Unlock()
		c.close()
		return
	}
	u.idle = append(u.idle, c)
	arm := !u.armed
	u.armed = true
	u.mu.Unlock()
	if arm {
		time.AfterFunc(idleConnTimeout, u.sweep)
	}
}

// sweep closes the connections idle for longer than idleConnTimeout and schedules itself
// again while some are left.
func (u *upstream) sweep() {
	now := time.Now()
	u.mu.Lock()
	n := 0
	for n < len(u.idle) && now.Sub(u.idle[n].idleAt) >= idleConnTimeout {
		u.idle[n].close()
		n++
	}
	u.idle = append(u.idle[:0], u.idle[n:]...)
	clear(u.idle[len(u.idle):cap(u.idle)])
	var next time.Duration
	if len(u.idle) > 0 {
		next = idleConnTimeout - now.Sub(u.idle[0].idleAt)
	}
	u.armed = len(u.idle) > 0
	u.mu.Unlock()
	if next > 0 {
		time.AfterFunc(next, u.sweep)
	}
}

// upConn is one persistent connection to the upstream, used by one request at a time.
type upConn struct {
	u      *upstream
	nc     net.Conn
	br     *bufio.Reader
	idleAt time.Time
	limit  int // header bytes left to read; < 0 when not reading a header
	// armed is the read deadline set on nc (zero: none) and due the response-header deadline
	// of the request being read (zero once its header is in, or without a timeout). Reads
	// wake up at least every cancelPoll to see whether the request's client went away.
	// Moving a deadline updates a runtime timer, so armed is moved only when it is off by
	// more than an eighth: a read that reaches it early goes on with the right one.
	armed, due time.Time
	req        *http.Request // the request being served, for its context
}

// cancelPoll bounds how long an upstream connection stays busy with a request whose client
// went away: its reads wake up this often to look at the request's context. (A context
// callback would end them at once but costs a lock and two allocations on every request.)
const cancelPoll = time.Second

func (c *upConn) close() { _ = c.nc.Close() }

// limitedConn is the reader under an upConn's bufio.Reader: it enforces maxResponseHeader
// and the response-header deadline.
type limitedConn struct{ c *upConn }

func (l limitedConn) Read(p []byte) (int, error) {
	c := l.c
	if c.limit == 0 {
		return 0, fmt.Errorf("upstream response header exceeds %d bytes", maxResponseHeader)
	}
	if c.limit > 0 && len(p) > c.limit {
		p = p[:c.limit]
	}
	for {
		n, err := c.nc.Read(p)
		if n == 0 && err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			again, cerr := c.rearm()
			if again {
				continue
			}
			if cerr != nil {
				err = cerr
			}
		}
		if c.limit > 0 {
			c.limit -= n
		}
		return n, err
	}
}

// armHeader makes the response header due within the upstream's header timeout from now.
func (c *upConn) armHeader(now time.Time) {
	c.due = time.Time{}
	if t := c.u.headerTimeout; t > 0 {
		c.due = now.Add(t)
	}
	want := c.next(now)
	if c.armed.IsZero() || c.armed.After(want) || want.Sub(c.armed) > want.Sub(now)/8 {
		c.setDeadline(want)
	}
}

// next is the deadline a read starting at now needs: the next look at the context, or the
// header's deadline if that is earlier.
func (c *upConn) next(now time.Time) time.Time {
	want := now.Add(cancelPoll)
	if !c.due.IsZero() && c.due.Before(want) {
		want = c.due
	}
	return want
}

func (c *upConn) setDeadline(d time.Time) {
	_ = c.nc.SetReadDeadline(d)
	c.armed = d
}

// rearm handles a read that reached the armed deadline. It reports whether the read should
// go on (the deadline was only a look at the context, or came early), or else the request's
// context error if its client went away (nil: the header's deadline passed).
func (c *upConn) rearm() (again bool, err error) {
	if c.req != nil {
		if err := c.req.Context().Err(); err != nil {
			return false, err
		}
	}
	now := time.Now()
	if !c.due.IsZero() && !now.Before(c.due) {
		return false, nil
	}
	c.setDeadline(c.next(now))
	return true, nil
}

// staleError is a failure before the upstream sent a byte; unsent when the request was not
// written either.
type staleError struct {
	err    error
	unsent bool
}

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// roundTrip writes req on c and reads the response head. On error c is closed.
func (c *upConn) roundTrip(req *http.Request) (*http.Response, error) {
	c.req = req
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c.nc)
	err := writeHead(bw, req)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writerPool.Put(bw)
	if err != nil {
		c.close()
		return nil, &staleError{err: fmt.Errorf("write request: %w", err), unsent: true}
	}
	resp, err := c.readHead(req)
	if err != nil {
		c.close()
		return nil, err
	}
	resp.Body = &upBody{c: c, rc: resp.Body, reuse: !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	return resp, nil
}

// readHead reads the response's status line and headers within the upstream's header
// timeout, passing over informational (1xx) answers other than 101.
func (c *upConn) readHead(req *http.Request) (*http.Response, error) {
	c.armHeader(time.Now())
	c.limit = maxResponseHeader
	if _, err := c.br.Peek(1); err != nil {
		if isTimeout(err) {
			return nil, err
		}
		return nil, &staleError{err: fmt.Errorf("read response: %w", err)}
	}
	var resp *http.Response
	var err error
	for range 6 {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		resp.Body.Close()
	}
	c.limit = -1
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
		return nil, errors.New("read response: too many informational answers")
	}
	c.due = time.Time{} // the body has no deadline, only the looks at the context
	return resp, nil
}

// upBody is a response body on an upConn: the connection goes back to the pool once the body
// was read to its end, and is closed if the body is closed before.
type upBody struct {
	c     *upConn
	rc    io.ReadCloser
	reuse bool
	done  bool
}

func (b *upBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
	}
	return n, err
}

// Close releases the connection; it is kept only if the body was read to its end.
func (b *upBody) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *upBody) finish(complete bool) {
	b.done = true
	b.c.req = nil
	if complete && b.reuse {
		b.c.u.put(b.c)
		return
	}
	b.c.close()
}
