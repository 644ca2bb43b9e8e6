package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Go's HTTP/1 server accepts some requests whose framing other parsers may read differently,
// and repairs them before a handler can tell: it drops Content-Length when Transfer-Encoding is
// present, merges equal duplicate Content-Length headers, ignores Transfer-Encoding on HTTP/1.0,
// unfolds obs-fold lines and accepts a bare LF as a line end (in chunked framing too, until
// the handler reads the body, by when the request has reached an app). The guard watches the raw bytes of
// each client connection and marks such requests so that the handler refuses them (400) before
// they reach an app.

// maxGuardLine bounds one scanned line; a longer one makes the guard stop judging the
// connection (Go's server refuses over-long headers by itself).
const maxGuardLine = 128 << 10

type scanState uint8

const (
	scanHead      scanState = iota // request line and header fields
	scanBody                       // Content-Length body bytes
	scanChunkSize                  // a chunk-size line
	scanChunkData                  // chunk data bytes
	scanChunkEnd                   // the CRLF after chunk data
	scanTrailer                    // trailer fields up to the blank line
	scanOpaque                     // not HTTP/1 requests any more: nothing is judged
)

// verdict is one request's judgment; bad may be set after the handler has taken it when a
// body framing error arrives later: then the connection's reads fail from there on
// (errLateFraming), so that the body's reader fails and the handler answers 400 instead of
// waiting for bytes that a parser may read otherwise.
type verdict struct{ bad, taken bool }

// errLateFraming is the read error of a connection whose request body turned out ambiguous
// after its request was handed to the handler.
var errLateFraming = errors.New("ambiguous request body framing")

// h2Preface is the first line of an HTTP/2 connection's preface.
var h2Preface = []byte("PRI * HTTP/2.0")

// guardConn is a client connection whose read bytes are scanned for ambiguous requests.
type guardConn struct {
	net.Conn
	mu      sync.Mutex
	state   scanState
	line    []byte
	first   bool // the next head line is a request line
	cur     *verdict
	http10  bool
	ignore  bool // the request is answered by the server itself (OPTIONS *)
	cl, te  int
	clValue string
	remain  int64
	queue   []*verdict
	broken  atomic.Bool // errLateFraming: reads fail
	// tlsState is the TLS connection's state once a request asked for it (see withTLS); only
	// the connection's serving goroutine, which runs its requests in turn, touches it.
	tlsState *tls.ConnectionState
}

// guardListener wraps accepted connections in a guardConn.
type guardListener struct{ net.Listener }

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c, first: true}, nil
}

type guardKey struct{}

// guardContext is the http.Server's ConnContext: it lets the handler find its guardConn.
func guardContext(ctx context.Context, c net.Conn) context.Context {
	if g, ok := c.(*guardConn); ok {
		return context.WithValue(ctx, guardKey{}, g)
	}
	return ctx
}

// guardOf returns the connection in ctx; nil when it was not guarded.
func guardOf(ctx context.Context) *guardConn {
	g, _ := ctx.Value(guardKey{}).(*guardConn)
	return g
}

// ambiguous takes the next request's verdict from g (nil: no verdict) and reports whether
// the request must be refused.
func (g *guardConn) ambiguous() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		return false
	}
	v := g.queue[0]
	g.queue = g.queue[1:]
	v.taken = true
	return v.bad
}

// stopGuard makes the guard stop scanning c (after a protocol switch).
func stopGuard(c net.Conn) {
	if g, ok := c.(*guardConn); ok {
		g.mu.Lock()
		g.state = scanOpaque
		g.mu.Unlock()
	}
}

func (g *guardConn) Read(p []byte) (int, error) {
	if g.broken.Load() {
		return 0, errLateFraming
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		g.mu.Lock()
		g.scan(p[:n])
		if g.cur != nil && g.cur.bad && g.cur.taken {
			g.broken.Store(true)
			err = errLateFraming
		}
		g.mu.Unlock()
	}
	return n, err
}

// scan advances the state machine over b.
func (g *guardConn) scan(b []byte) {
	for len(b) > 0 {
		switch g.state {
		case scanOpaque:
			return
		case scanBody, scanChunkData:
			k := int64(len(b))
			if k > g.remain {
				k = g.remain
			}
			g.remain -= k
			b = b[k:]
			if g.remain == 0 {
				if g.state == scanBody {
					g.state = scanHead
				} else {
					g.state = scanChunkEnd
				}
			}
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				g.line = append(g.line, b...)
				if len(g.line) > maxGuardLine {
					g.state = scanOpaque
				}
				return
			}
			g.line = append(g.line, b[:i+1]...)
			b = b[i+1:]
			g.onLine(g.line)
			g.line = g.line[:0]
		}
	}
}

// onLine handles one complete line, LF included.
func (g *guardConn) onLine(l []byte) {
	bareLF := len(l) < 2 || l[len(l)-2] != '\r'
	if g.state != scanHead && (bareLF || bytes.IndexByte(l[:len(l)-2], '\r') >= 0) {
		// RFC 9112 allows only CRLF to end a line of chunked framing, and Go's server refuses
		// anything else only once the handler reads the body, after the request has gone
		// upstream: refuse it while the head is judged.
		g.fail()
		return
	}
	l = bytes.TrimRight(l, "\r\n")
	switch g.state {
	case scanHead:
		g.onHeadLine(l, bareLF)
	case scanChunkSize:
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimRight(l, " \t")), 16, 64)
		switch {
		case err != nil || n < 0:
			g.fail()
		case n == 0:
			g.state = scanTrailer
		default:
			g.remain, g.state = n, scanChunkData
		}
	case scanChunkEnd:
		if len(l) != 0 {
			g.fail()
			return
		}
		g.state = scanChunkSize
	case scanTrailer:
		if len(l) == 0 {
			g.state = scanHead
		}
	}
}

// fail marks the current request bad; its framing can no longer be followed.
func (g *guardConn) fail() {
	if g.cur != nil {
		g.cur.bad = true
	}
	g.state = scanOpaque
}

func (g *guardConn) onHeadLine(l []byte, bareLF bool) {
	if g.first {
		if len(l) == 0 {
			return // Go's server skips empty lines before a request line
		}
		g.first = false
		if bytes.Equal(l, h2Preface) && !bareLF {
			// HTTP/2 by prior knowledge (h2c): frames are length-prefixed, not HTTP/1
			// framing, and Go's HTTP/2 server checks their lengths itself.
			g.state = scanOpaque
			return
		}
		g.cur = &verdict{bad: bareLF}
		g.http10 = bytes.HasSuffix(l, []byte(" HTTP/1.0"))
		g.ignore = bytes.HasPrefix(l, []byte("OPTIONS * "))
		g.cl, g.te, g.clValue = 0, 0, ""
		return
	}
	if bareLF {
		g.cur.bad = true
	}
	if len(l) == 0 {
		g.endHead()
		return
	}
	if l[0] == ' ' || l[0] == '\t' {
		g.cur.bad = true // obs-fold
		return
	}
	name, value, _ := bytes.Cut(l, []byte(":"))
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		g.cl++
		g.clValue = string(bytes.Trim(value, " \t"))
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		g.te++
	}
}

// endHead judges the request whose header just ended and sets up its body's framing.
func (g *guardConn) endHead() {
	v := g.cur
	if g.cl > 1 || (g.cl > 0 && g.te > 0) || (g.te > 0 && g.http10) {
		v.bad = true
	}
	if !g.ignore {
		g.queue = append(g.queue, v)
	}
	g.first = true
	switch {
	case g.te > 0 && !g.http10:
		g.state = scanChunkSize
	case g.cl == 1:
		n, err := strconv.ParseInt(g.clValue, 10, 64)
		if err != nil || n < 0 {
			g.state = scanOpaque // the server refuses it and closes
			return
		}
		if n > 0 {
			g.remain, g.state = n, scanBody
		}
	}
}

// h2Ambiguous reports whether an HTTP/2 request names its length twice. Go's HTTP/2 server
// checks the DATA frames against the first Content-Length only, so "3" then "4" would pass on
// to the upstream as a request of 3; the guard refuses a repeated Content-Length on HTTP/1.1,
// and this refuses it on HTTP/2 (RFC 9113 section 8.1.1: the value must equal the content's
// length, which one of two different values cannot).
func h2Ambiguous(r *http.Request) bool {
	return r.ProtoMajor == 2 && len(r.Header["Content-Length"]) > 1
}
