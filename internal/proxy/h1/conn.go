package h1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A connection's state, for Shutdown: only idle ones (waiting for a next request) are closed
// from outside.
const (
	stateNew int32 = iota
	stateActive
	stateIdle
	stateClosed
)

// maxDiscard bounds the unread body bytes read and dropped to keep a connection alive after
// its answer (as net/http does); beyond it the connection is closed.
const maxDiscard = 256 << 10

var (
	readBufs  = sync.Pool{New: func() any { b := make([]byte, maxHead); return &b }}
	writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
	rstAvoid  = 500 * time.Millisecond // as net/http waits after a half-close
)

// conn is one client connection served by the loop.
type conn struct {
	s      *Server
	nc     net.Conn
	bufp   *[]byte
	buf    []byte // read buffer: unread bytes are buf[r:w]
	r, w   int
	bw     *bufio.Writer
	remote string
	tmpl   *http.Request // carries the connection's context into every request
	cancel context.CancelFunc
	resp   response
	state  atomic.Int32
	armed  time.Time // the read deadline set on nc; zero: none
	// headArmed: the deadline of the head being read is set.
	headArmed bool
	lastPost  bool // the last request served was a POST
	max       int
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, remote: nc.RemoteAddr().String(), max: maxHead}
	if s.MaxHeaderBytes > 0 && s.MaxHeaderBytes < c.max {
		c.max = s.MaxHeaderBytes
	}
	return c
}

// serve runs the connection's requests until it closes or is handed off.
func (c *conn) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.tmpl = (&http.Request{}).WithContext(&connContext{Context: ctx, cancel: cancel, c: c})
	c.bufp = readBufs.Get().(*[]byte)
	c.buf = *c.bufp
	c.bw = writeBufs.Get().(*bufio.Writer)
	c.bw.Reset(c.nc)
	c.resp.header = make(http.Header)
	c.resp.dates = &c.s.dates
	c.resp.closing = &c.s.closing
	handedOff := false
	defer func() { c.release(handedOff) }()
	for {
		h, n, o := c.readHead()
		switch o {
		case Other:
			handedOff = true
			c.handoff()
			return
		case Incomplete: // the connection failed or closed
			return
		}
		if !c.serveOne(&h, n) {
			return
		}
	}
}

// readHead reads until a whole head is buffered. Incomplete means the connection is done.
func (c *conn) readHead() (Head, int, Outcome) {
	for {
		if c.r < c.w {
			h, n, o := Parse(c.buf[c.r:c.w], c.max)
			if o != Incomplete {
				c.headArmed = false
				return h, n, o
			}
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		} else if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		switch {
		case c.w == 0 && c.state.Load() != stateNew:
			if !c.setIdle() {
				return Head{}, 0, Incomplete
			}
			c.arm(c.s.IdleTimeout)
			c.headArmed = false
		case !c.headArmed:
			// A head is due ReadHeaderTimeout after its first bytes (the first request's after
			// the connection's start), however slowly the rest comes.
			c.setDeadline(time.Now().Add(c.s.ReadHeaderTimeout))
			c.headArmed = true
		}
		n, err := c.nc.Read(c.buf[c.w:])
		if c.state.Swap(stateActive) == stateClosed {
			return Head{}, 0, Incomplete // closed by Shutdown
		}
		c.w += n
		if err != nil {
			return Head{}, 0, Incomplete
		}
	}
}

// setIdle marks the connection idle; false when the server is shutting down (it is closed).
func (c *conn) setIdle() bool {
	c.state.Store(stateIdle)
	if c.s.closing.Load() && c.state.CompareAndSwap(stateIdle, stateClosed) {
		return false
	}
	return true
}

// arm makes reads fail d from now. The deadline moves only when it is later than that, or
// earlier by more than an eighth of d: moving it updates a runtime timer, which most requests
// then need not do.
func (c *conn) arm(d time.Duration) {
	if d <= 0 {
		if !c.armed.IsZero() {
			c.setDeadline(time.Time{})
		}
		return
	}
	now := time.Now()
	want := now.Add(d)
	if c.armed.IsZero() || c.armed.After(want) || want.Sub(c.armed) > d/8 {
		c.setDeadline(want)
	}
}

func (c *conn) setDeadline(t time.Time) {
	_ = c.nc.SetReadDeadline(t)
	c.armed = t
}

// reqURL holds a request and its URL in one allocation.
type reqURL struct {
	req http.Request
	url url.URL
}

// serveOne serves the request whose head is the n bytes at c.r and reports whether the
// connection may serve another.
func (c *conn) serveOne(h *Head, n int) bool {
	c.r += n
	c.lastPost = h.Method == http.MethodPost
	x := new(reqURL)
	x.req = *c.tmpl
	x.url = h.URL
	r := &x.req
	r.Method, r.URL, r.RequestURI = h.Method, &x.url, h.Target
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header, r.Host, r.RemoteAddr = h.Header, h.Host, c.remote
	r.ContentLength, r.Close, r.Body = h.ContentLength, h.Close, http.NoBody
	var b *body
	if h.ContentLength > 0 {
		b = &body{c: c, remain: h.ContentLength}
		r.Body = b
		c.arm(0) // a body may take as long as the handler waits for it, as with net/http
	}
	c.resp.reset(c.bw, h.Method == http.MethodHead, h.Close)
	ok := c.run(r)
	var remain int64
	readable := true
	if b != nil {
		remain, readable = b.end()
	}
	if !ok {
		return false
	}
	keep := c.resp.finish()
	switch {
	case remain == 0:
		return keep && readable
	case keep && readable && remain <= maxDiscard:
		return c.discard(remain)
	case readable:
		c.closeWriteAndWait()
	}
	return false
}

// run calls the handler; false when it panicked (http.ErrAbortHandler aborts the answer
// silently, as with net/http).
func (c *conn) run(r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler && c.s.Logger != nil {
				c.s.Logger.Error("handler panicked", "remote", c.remote, "panic", v, "stack", string(debug.Stack()))
			}
		}
	}()
	c.s.Handler.ServeHTTP(&c.resp, r)
	return true
}

// readBody reads body bytes: those buffered first, then the connection's.
func (c *conn) readBody(p []byte) (int, error) {
	if c.r < c.w {
		n := copy(p, c.buf[c.r:c.w])
		c.r += n
		return n, nil
	}
	return c.nc.Read(p)
}

// discard reads and drops the n body bytes the handler left, within the header timeout,
// keeping whatever follows them for the next request.
func (c *conn) discard(n int64) bool {
	c.arm(c.s.ReadHeaderTimeout)
	for n > 0 {
		if c.r == c.w {
			c.r, c.w = 0, 0
			k, err := c.nc.Read(c.buf)
			c.w = k
			if k == 0 && err != nil {
				return false
			}
		}
		k := min(int64(c.w-c.r), n)
		c.r += int(k)
		n -= k
	}
	return true
}

// closeWriteAndWait half-closes the connection and reads what the client still sends for a
// moment, so that the answer is not lost to a reset from unread bytes.
func (c *conn) closeWriteAndWait() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
		_ = c.nc.SetReadDeadline(time.Now().Add(rstAvoid))
		_, _ = io.Copy(io.Discard, c.nc)
	}
}

// handoff gives the connection, its unread bytes first, to the server's Handoff.
func (c *conn) handoff() {
	if c.lastPost {
		// net/http drops up to 4 CR or LF bytes after a POST (old clients' tolerance), but only
		// on a connection that served the POST: do it for the server taking over.
		for i := 0; i < 4 && c.r < c.w && (c.buf[c.r] == '\r' || c.buf[c.r] == '\n'); i++ {
			c.r++
		}
	}
	pending := append([]byte(nil), c.buf[c.r:c.w]...)
	if !c.armed.IsZero() {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	c.s.Handoff(&prefixConn{Conn: c.nc, pending: pending})
}

// release returns the buffers and, unless handed off, closes the connection.
func (c *conn) release(handedOff bool) {
	c.cancel()
	c.s.untrack(c)
	if !handedOff {
		c.state.Store(stateClosed)
		_ = c.nc.Close()
	}
	c.bw.Reset(nil)
	writeBufs.Put(c.bw)
	readBufs.Put(c.bufp)
	c.buf, c.bw, c.bufp = nil, nil, nil
}

// prefixConn is a handed-off connection: reads return the bytes this loop had read first.
type prefixConn struct {
	net.Conn
	pending []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
