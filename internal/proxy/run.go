package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/proxy/h1"
)

// listener is one open address. Its slot indexes the route table's per-listener routes, so a
// request finds its routes without a string lookup.
type listener struct {
	key  string // the address as configured
	slot int
	ln   net.Listener
	srv  *http.Server // non-nil once served
	fast *h1.Server   // a plain listener's HTTP/1.1 loop, once served (see serveFast)
	h2   *http.Server // a TLS listener's HTTP/2 server, once served
	tls  *listenerTLS // nil for plain HTTP
	// closed is set before a listener no route uses is closed, so that its Serve error is
	// expected.
	closed atomic.Bool
	// conns counts the open client connections, for shutdown.
	conns atomic.Int64
}

// countConn keeps l.conns: it is the server's ConnState hook, called once per state change
// (an atomic add per connection, nothing per request).
func (l *listener) countConn(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		l.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		l.conns.Add(-1)
	}
}

// Run serves every listener, present and future, until ctx is done. Then it stops accepting,
// waits up to Config.ShutdownTimeout for in-flight requests, closes the listeners and upgraded
// (WebSocket) connections, and returns once its goroutines have exited. It returns an error if
// the drain timed out or if Run was already called.
func (p *Proxy) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running || p.stopped {
		p.mu.Unlock()
		return errors.New("proxy run: already running or stopped")
	}
	p.running = true
	for _, l := range p.sortedListeners() {
		p.serve(l)
	}
	p.mu.Unlock()

	<-ctx.Done()

	p.mu.Lock()
	p.running = false
	p.stopped = true
	ls := p.sortedListeners()
	clear(p.listeners)
	p.mu.Unlock()

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
	defer cancel()
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		drainEr error
	)
	for _, l := range ls {
		wg.Go(func() {
			if err := p.shutdown(shutdownCtx, l); err != nil {
				errMu.Lock()
				drainEr = err
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	p.closeUpgraded()
	p.wg.Wait()
	if drainEr != nil {
		return fmt.Errorf("proxy shutdown: %w", drainEr)
	}
	return nil
}

// serve starts serving l. Callers hold p.mu and have checked p.running.
func (p *Proxy) serve(l *listener) {
	l.srv = &http.Server{
		Handler:           &listenerHandler{p: p, slot: l.slot, tls: l.tls != nil},
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.IdleTimeout,
		MaxHeaderBytes:    p.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug),
		ConnContext:       guardContext,
		ConnState:         l.countConn,
	}
	if l.tls == nil {
		// HTTP/2 without TLS for clients that ask by prior knowledge (gRPC's plaintext).
		l.srv.Protocols = new(http.Protocols)
		l.srv.Protocols.SetHTTP1(true)
		l.srv.Protocols.SetUnencryptedHTTP2(true)
		if !p.cfg.StdHTTP1 {
			p.serveFast(l)
			return
		}
	}
	var h1 net.Listener = guardListener{l.ln}
	if l.tls != nil {
		split := newALPNSplit(tls.NewListener(l.ln, l.tls.config()), p.cfg.ReadHeaderTimeout)
		h1, l.h2 = split.h1, h2Server(l.srv)
		p.wg.Go(func() { _ = split.run() })
		p.wg.Go(func() { _ = l.h2.Serve(split.h2) })
	}
	p.wg.Go(func() {
		err := l.srv.Serve(h1)
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !l.closed.Load() {
			p.logger.Error("listener stopped", "listen", l.key, "error", err)
		}
	})
}

// shutdown stops accepting on l and waits for its in-flight requests until ctx ends, then
// closes what is left. Every request a client sent is answered: http.Server.Shutdown drops
// a request it reads once shutting down (a new connection accepted just before the listener
// closed, whose client gets EOF), so first keep-alives are turned off, which closes the idle
// connections and each busy one after its answer, and Shutdown comes once no connection is
// left or the wait is cut short by ctx.
func (p *Proxy) shutdown(ctx context.Context, l *listener) error {
	if l.srv == nil {
		return l.ln.Close()
	}
	l.closed.Store(true)
	_ = l.ln.Close()
	l.srv.SetKeepAlivesEnabled(false)
	if l.fast != nil {
		l.fast.Shutdown()
		defer l.fast.Close() // whatever the drain left
	}
	if l.h2 != nil {
		// GOAWAY at once: HTTP/2 clients finish their streams and open no new one here.
		h2done := make(chan struct{})
		go func() { defer close(h2done); _ = l.h2.Shutdown(ctx) }()
		defer func() { <-h2done }()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for l.conns.Load() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	err := l.srv.Shutdown(ctx)
	if err == nil && l.fast != nil && ctx.Err() != nil && l.conns.Load() > 0 {
		err = ctx.Err() // the loop's connections outlived the drain
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		_ = l.srv.Close()
		return fmt.Errorf("drain %s: %w", l.key, err)
	}
	return nil
}

// openListeners opens the addresses in keys that are not open yet, for TLS when secure. On
// error it closes the ones it opened and returns the error. Callers hold p.mu.
func (p *Proxy) openListeners(keys []string, secure bool) error {
	var opened []*listener
	for _, key := range keys {
		if p.listeners[key] != nil {
			continue
		}
		ln, err := p.cfg.Listen(key)
		if err != nil {
			for _, l := range opened {
				_ = l.ln.Close()
				delete(p.listeners, l.key)
			}
			return fmt.Errorf("listen %s: %w", key, err)
		}
		l := &listener{key: key, slot: p.nextSlot, ln: ln}
		if secure {
			l.tls = &listenerTLS{acme: p.cfg.Certs}
		}
		p.nextSlot++
		p.listeners[key] = l
		opened = append(opened, l)
	}
	if p.running {
		for _, l := range opened {
			p.serve(l)
		}
	}
	return nil
}

// closeUnused closes the listeners no route uses. Served ones drain in the background, tracked
// by p.wg so that Run waits for them. Callers hold p.mu.
func (p *Proxy) closeUnused() {
	used := make(map[string]bool)
	for _, r := range p.routes {
		for _, a := range addrsOf(r) {
			used[a.addr] = true
		}
	}
	for key, l := range p.listeners {
		if used[key] {
			continue
		}
		delete(p.listeners, key)
		p.closeListener(key, l)
	}
}

// closeListener stops accepting on l, which is no longer in p.listeners; connections already
// accepted finish in the background. Callers hold p.mu.
func (p *Proxy) closeListener(key string, l *listener) {
	l.closed.Store(true)
	_ = l.ln.Close()
	if l.srv == nil {
		return
	}
	p.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
		defer cancel()
		if err := p.shutdown(ctx, l); err != nil {
			p.logger.Warn("listener drain cut short", "listen", key, "error", err)
		}
	})
}

// sortedListeners returns the open listeners in the order they were opened. Callers hold p.mu.
func (p *Proxy) sortedListeners() []*listener {
	ls := make([]*listener, 0, len(p.listeners))
	for _, l := range p.listeners {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *listener) int { return a.slot - b.slot })
	return ls
}

// trackUpgraded records (add) or forgets a hijacked client connection so that Run can close it.
// It reports false when the proxy is stopped and the connection must not be kept.
func (p *Proxy) trackUpgraded(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.upgraded, c)
		return true
	}
	if p.stopped {
		return false
	}
	p.upgraded[c] = struct{}{}
	return true
}

func (p *Proxy) closeUpgraded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.upgraded {
		_ = c.Close()
	}
	clear(p.upgraded)
}
