package h1

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.1 on a plain listener with Handler, handing each connection that sends
// a request beyond its subset to Handoff. Set its fields before Serve; do not change them
// after.
type Server struct {
	Handler http.Handler
	// Handoff takes over a connection (its unread bytes first) at a request boundary; it
	// must serve or close it.
	Handoff func(net.Conn)
	// ReadHeaderTimeout bounds reading a request head (the first from the connection's
	// start); IdleTimeout bounds the wait for a keep-alive connection's next request.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes caps the head this loop reads; a longer one is handed off.
	MaxHeaderBytes int
	// Conns, when set, is added 1 for each connection accepted and 1 taken when it is closed
	// or handed off.
	Conns  *atomic.Int64
	Logger *slog.Logger

	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*conn]struct{}
	dates   dateCache
}

// maxHead is the read buffer's size: a head must fit in it to be served here.
const maxHead = 8 << 10

// Serve accepts connections on ln until it fails (closed), serving each in its own goroutine.
func (s *Server) Serve(ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, net.ErrClosed) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := s.track(nc)
		if c == nil {
			continue
		}
		go c.serve()
	}
}

// track registers a new connection; nil (and the connection closed) once shutting down.
func (s *Server) track(nc net.Conn) *conn {
	c := newConn(s, nc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		_ = nc.Close()
		return nil
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.conns[c] = struct{}{}
	if s.Conns != nil {
		s.Conns.Add(1)
	}
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if s.Conns != nil {
		s.Conns.Add(-1)
	}
}

// Shutdown turns keep-alives off: idle connections are closed now, busy ones after their
// answer (which says Connection: close), new ones after their first request.
func (s *Server) Shutdown() {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = c.nc.Close()
		}
	}
}

// Close closes every connection at once.
func (s *Server) Close() {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.state.Store(stateClosed)
		_ = c.nc.Close()
	}
}
