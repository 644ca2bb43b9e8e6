package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// alpnSplit accepts a TLS listener's connections, completes each handshake in its own
// goroutine (a slow client holds up no other) and hands the connection on by the protocol
// negotiated: HTTP/2 ones as *tls.Conn to the listener's HTTP/2 server, whose frames need no
// guard, the others to the guarded HTTP/1.1 server.
type alpnSplit struct {
	ln        net.Listener
	timeout   time.Duration
	h1, h2    *chanListener
	closeOnce sync.Once
}

func newALPNSplit(ln net.Listener, timeout time.Duration) *alpnSplit {
	done := make(chan struct{})
	return &alpnSplit{ln: ln, timeout: timeout,
		h1: &chanListener{c: make(chan net.Conn), done: done, addr: ln.Addr()},
		h2: &chanListener{c: make(chan net.Conn), done: done, addr: ln.Addr()}}
}

// run accepts until the listener closes, then closes both outputs.
func (s *alpnSplit) run() error {
	defer s.closeOnce.Do(func() { close(s.h1.done) })
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return err
		}
		go s.handshake(c.(*tls.Conn))
	}
}

func (s *alpnSplit) handshake(c *tls.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return
	}
	out := s.h1
	var conn net.Conn = c
	if c.ConnectionState().NegotiatedProtocol == "h2" {
		out = s.h2
	} else {
		conn = &guardConn{Conn: c, first: true}
	}
	select {
	case out.c <- conn:
	case <-out.done:
		_ = c.Close()
	}
}

// chanListener is a net.Listener fed by alpnSplit.
type chanListener struct {
	c    chan net.Conn
	done chan struct{}
	addr net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close is a no-op: the split closes both outputs when its listener closes.
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// h2Server is the HTTP/2 server of a TLS listener, serving the same handler as base.
func h2Server(base *http.Server) *http.Server {
	s := &http.Server{Handler: base.Handler, IdleTimeout: base.IdleTimeout, ReadHeaderTimeout: base.ReadHeaderTimeout,
		MaxHeaderBytes: base.MaxHeaderBytes, ErrorLog: base.ErrorLog, ConnState: base.ConnState}
	s.Protocols = new(http.Protocols)
	s.Protocols.SetHTTP2(true)
	return s
}
