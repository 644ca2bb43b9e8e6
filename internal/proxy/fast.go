package proxy

import (
	"errors"
	"net"
	"sync"

	"github.com/cutover/cutover/internal/proxy/h1"
)

// serveFast serves a plain listener with the proxy's own HTTP/1.1 loop (package h1). A
// connection whose request the loop does not take (a body in chunks, an upgrade, h2c by prior
// knowledge, HTTP/1.0, anything malformed or ambiguous) is handed, with the bytes already
// read, to the listener's net/http server behind the request-smuggling guard, as every
// connection was before. Callers hold p.mu.
func (p *Proxy) serveFast(l *listener) {
	hand := &handoffListener{c: make(chan net.Conn), done: make(chan struct{}), addr: l.ln.Addr()}
	l.fast = &h1.Server{
		Handler:           l.srv.Handler,
		Handoff:           hand.give,
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.IdleTimeout,
		MaxHeaderBytes:    p.cfg.MaxHeaderBytes,
		Conns:             &l.conns,
		Logger:            p.logger,
	}
	p.wg.Go(func() {
		err := l.fast.Serve(l.ln)
		if err != nil && !errors.Is(err, net.ErrClosed) && !l.closed.Load() {
			p.logger.Error("listener stopped", "listen", l.key, "error", err)
		}
	})
	p.wg.Go(func() { _ = l.srv.Serve(hand) })
}

// handoffListener is the net/http side of a fast listener: it accepts the connections the
// loop hands over, each behind the guard. The net/http server closes it when it shuts down.
type handoffListener struct {
	c    chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

// give passes c to the net/http server, or closes it once that server has shut down.
func (l *handoffListener) give(c net.Conn) {
	select {
	case l.c <- &guardConn{Conn: c, first: true}:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
