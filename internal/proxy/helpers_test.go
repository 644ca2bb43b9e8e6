package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startProxy returns a running proxy; it is stopped (and Run's return checked) at cleanup.
func startProxy(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := t.(*testing.T); ok {
		logger = slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	p := New(logger, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
	})
	return p
}

// listenAddr returns the actual address of the listener opened for key.
func (p *Proxy) listenAddr(t testing.TB, key string) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.listeners[key]
	if l == nil {
		t.Fatalf("no listener for %s", key)
	}
	return l.ln.Addr().String()
}

// named returns an upstream answering its name to every request.
func named(t testing.TB, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func hostOf(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// deadAddr returns a loopback address that refuses connections.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// route sets a route with the given service on "127.0.0.1:0" and returns the proxy's address.
func route(t testing.TB, p *Proxy, r Route) string {
	t.Helper()
	if r.Listen == "" {
		r.Listen = "127.0.0.1:0"
	}
	if err := p.SetRoute(r); err != nil {
		t.Fatalf("SetRoute(%+v): %v", r, err)
	}
	return p.listenAddr(t, r.Listen)
}

// routeSpare sets the route with a fixed free loopback port as its PreviewListen (preview) or
// Listen, and returns its Listen and that port's actual addresses. Two "127.0.0.1:0" are one
// listener, so a second listener needs a fixed port; the port deadAddr frees may be taken again
// (say as some client's ephemeral port) before SetRoute binds it, so it tries another then.
func routeSpare(t testing.TB, p *Proxy, r Route, preview bool) (listen, spare string) {
	t.Helper()
	if r.Listen == "" {
		r.Listen = "127.0.0.1:0"
	}
	for range 10 {
		spare = deadAddr(t)
		if preview {
			r.PreviewListen = spare
		} else {
			r.Listen = spare
		}
		err := p.SetRoute(r)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			t.Fatalf("SetRoute(%+v): %v", r, err)
		}
		return p.listenAddr(t, r.Listen), spare
	}
	t.Fatalf("SetRoute(%+v): no free port in 10 tries", r)
	return "", ""
}

// one is a single group of revision 1 with the given upstreams as targets.
func one(servers ...*httptest.Server) []Group {
	g := Group{Revision: 1, Weight: 100}
	for i, s := range servers {
		g.Targets = append(g.Targets, Target{ID: "t" + string(rune('a'+i)), Addr: hostOf(s)})
	}
	return []Group{g}
}

type answer struct {
	status int
	body   string
	header http.Header
}

// do sends a request and reads the whole answer.
func do(t testing.TB, c *http.Client, method, url, host string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (host %s): %v", method, url, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func get(t testing.TB, addr, path string) answer {
	t.Helper()
	return do(t, http.DefaultClient, http.MethodGet, "http://"+addr+path, "", nil)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
