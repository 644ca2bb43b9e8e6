package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bodyUpstream counts the requests that reach it and the ones whose body it read whole.
func bodyUpstream(t *testing.T) (addr string, arrived, complete *atomic.Int64) {
	t.Helper()
	arrived, complete = new(atomic.Int64), new(atomic.Int64)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			complete.Add(1)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return hostOf(s), arrived, complete
}

// TestMaxBody sends bodies over and under the route's MaxBody, with Content-Length and
// chunked: over gets 413, and no over-sized body reaches the upstream whole.
func TestMaxBody(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Limits: Limits{MaxBody: 1000}})
	up, arrived, complete := bodyUpstream(t)
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)

	chunked := func(n int) io.Reader { return io.MultiReader(strings.NewReader(strings.Repeat("x", n))) }
	tests := []struct {
		name        string
		body        io.Reader
		length      int64
		want        int
		wantArrived int64
	}{
		{"content-length under", strings.NewReader(strings.Repeat("x", 1000)), 1000, 200, 1},
		{"content-length over", strings.NewReader(strings.Repeat("x", 1001)), 1001, 413, 0},
		{"chunked under", chunked(1000), -1, 200, 1},
		{"chunked over", chunked(5000), -1, 413, -1}, // its head may reach the upstream; its body never whole
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a0, c0 := arrived.Load(), complete.Load()
			req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tt.length
			resp, err := guardedClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d %q, want %d", resp.StatusCode, b, tt.want)
			}
			if tt.wantArrived >= 0 {
				if n := arrived.Load() - a0; n != tt.wantArrived {
					t.Errorf("%d requests reached the upstream, want %d", n, tt.wantArrived)
				}
			}
			if tt.want == 413 {
				if n := complete.Load() - c0; n != 0 {
					t.Errorf("%d over-sized bodies reached the upstream whole, want 0", n)
				}
			}
		})
	}
}

// holdingUpstream is an upstream that holds each request until a value arrives on the
// returned release channel; arrived gets each request's path as it arrives, n counts them.
func holdingUpstream(t *testing.T) (s *httptest.Server, arrived chan string, release chan struct{}, n *atomic.Int64) {
	t.Helper()
	arrived, release, n = make(chan string, 10), make(chan struct{}, 10), new(atomic.Int64)
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		arrived <- r.URL.Path
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s, arrived, release, n
}

// receive returns the next value of ch, failing t after a minute rather than hanging.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("no %s within a minute", what)
		panic("unreachable")
	}
}

// TestConcurrencyQueueServesWhenSlotFrees holds MaxConcurrency requests in flight: one more
// waits in the queue, reaches the upstream only once a slot frees, and is answered 200.
func TestConcurrencyQueueServesWhenSlotFrees(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Limits: Limits{MaxConcurrency: 2, QueueTimeout: time.Minute}})
	s, arrived, release, n := holdingUpstream(t)
	p.SetTargets("web", one(s), 0)

	results := make(chan result, 3)
	for _, path := range []string{"/1", "/2"} {
		go func() { results <- send(http.MethodGet, "http://"+addr+path, "") }()
	}
	receive(t, arrived, "first arrival")
	receive(t, arrived, "second arrival")
	go func() { results <- send(http.MethodGet, "http://"+addr+"/3", "") }()
	waitQueued(t, p, "web")
	if got := n.Load(); got != 2 {
		t.Errorf("upstream saw %d requests with one queued, want 2", got)
	}
	release <- struct{}{}
	if path := receive(t, arrived, "the queued request"); path != "/3" {
		t.Errorf("after a slot freed, %q arrived, want /3", path)
	}
	release <- struct{}{}
	release <- struct{}{}
	for range 3 {
		if r := receive(t, results, "an answer"); r.status != http.StatusOK {
			t.Errorf("admitted request: got %d %q %v, want 200", r.status, r.body, r.err)
		}
	}
}

// TestConcurrencyQueueTimesOut holds MaxConcurrency requests in flight: one more gets 503
// with Retry-After once QueueTimeout passes, and never reaches the upstream.
func TestConcurrencyQueueTimesOut(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Limits: Limits{MaxConcurrency: 2, QueueTimeout: 200 * time.Millisecond}})
	s, arrived, release, n := holdingUpstream(t)
	p.SetTargets("web", one(s), 0)

	results := make(chan result, 2)
	for _, path := range []string{"/1", "/2"} {
		go func() { results <- send(http.MethodGet, "http://"+addr+path, "") }()
	}
	receive(t, arrived, "first arrival")
	receive(t, arrived, "second arrival")
	resp, err := guardedClient.Get("http://" + addr + "/3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request with 2 in flight: got %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := n.Load(); got != 2 {
		t.Errorf("upstream saw %d requests, want 2", got)
	}
	release <- struct{}{}
	release <- struct{}{}
	for range 2 {
		if r := receive(t, results, "an answer"); r.status != http.StatusOK {
			t.Errorf("admitted request: got %d %q %v, want 200", r.status, r.body, r.err)
		}
	}
}

// waitQueued waits until a request waits in the queue of the service's route.
func waitQueued(t *testing.T, p *Proxy, service string) {
	t.Helper()
	p.mu.Lock()
	lim := p.services[service].limits.Load()
	p.mu.Unlock()
	for range 2000 {
		if lim.waiting.Load() == 1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no request waits in the queue of %s", service)
}

// proxyToCounter starts a proxy with cfg whose route "web" goes to a countingUpstream; it
// returns the route's address and the upstream's request count.
func proxyToCounter(t *testing.T, cfg Config) (addr string, count *atomic.Int64) {
	t.Helper()
	p := startProxy(t, cfg)
	addr = route(t, p, Route{Service: "web"})
	up, count, _ := countingUpstream(t)
	p.SetTargets("web", one(up), 0)
	return addr, count
}

// dialRaw opens a TCP connection to addr, closed at the test's end, whose reads and writes
// fail after 30s rather than hang.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// TestSlowHeadersCutOff is a slowloris client on a raw socket: it sends a header byte every
// 50ms; the proxy closes the connection at ReadHeaderTimeout (Go's server first writes a
// 400), long before the header ends, and nothing reaches the upstream.
func TestSlowHeadersCutOff(t *testing.T) {
	addr, count := proxyToCounter(t, Config{ReadHeaderTimeout: 300 * time.Millisecond})
	c := dialRaw(t, addr)
	head := "GET / HTTP/1.1\r\nHost: a.example\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	closed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c) // until the proxy closes the connection
		closed <- string(b)
	}()
	sent := 0
	for ; sent < len(head); sent++ {
		if _, err := c.Write([]byte{head[sent]}); err != nil {
			break
		}
		select {
		case answer := <-closed:
			if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 4") {
				t.Fatalf("slow header: the proxy answered %q, want a refusal or nothing", answer)
			}
			if n := count.Load(); n != 0 {
				t.Errorf("%d requests reached the upstream, want 0", n)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("slow header: all %d bytes sent over %v and the connection is still open", sent, time.Duration(sent)*50*time.Millisecond)
}

// TestIdleConnectionClosed leaves a keep-alive connection idle after one request: the proxy
// closes it at IdleTimeout.
func TestIdleConnectionClosed(t *testing.T) {
	addr, _ := proxyToCounter(t, Config{IdleTimeout: 200 * time.Millisecond})
	c := dialRaw(t, addr)
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The next read ends with EOF when the proxy closes the idle connection; a deadline
	// error would mean it kept it open for 30s.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("reading an idle connection: got %v, want EOF (closed by the proxy)", err)
	}
}

// TestHeaderTooLarge sends a request head over MaxHeaderBytes: 431, nothing upstream.
func TestHeaderTooLarge(t *testing.T) {
	addr, count := proxyToCounter(t, Config{MaxHeaderBytes: 4 << 10})
	// Go's server allows 4 KiB over MaxHeaderBytes.
	big := "GET / HTTP/1.1\r\nHost: a.example\r\nX-Big: " + strings.Repeat("b", 16<<10) + "\r\n\r\n"
	if s := rawExchange(t, addr, big); s != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB header: got %d, want 431", s)
	}
	small := "GET / HTTP/1.1\r\nHost: a.example\r\nX-Small: " + strings.Repeat("b", 2<<10) + "\r\nConnection: close\r\n\r\n"
	if s := rawExchange(t, addr, small); s != http.StatusOK {
		t.Errorf("2 KiB header: got %d, want 200", s)
	}
	if n := count.Load(); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}

// TestLimitsValidation refuses negative limits, naming them.
func TestLimitsValidation(t *testing.T) {
	p := New(discardLogger(), Config{})
	err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0", Limits: Limits{MaxBody: -1, MaxConcurrency: -2, QueueTimeout: -time.Second}})
	for _, want := range []string{"max body -1", "max concurrency -2", "queue timeout -1s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SetRoute with negative limits: got %v, want it to name %q", err, want)
		}
	}
	if len(p.Addrs()) != 0 {
		t.Errorf("refused route opened listeners %v", p.Addrs())
	}
}

// BenchmarkProxyHotPathLimits is BenchmarkProxyHotPath's plain case on a route with limits:
// a body cap (the spec's default) and a concurrency cap, to compare the cost of admission.
func BenchmarkProxyHotPathLimits(b *testing.B) {
	up := cannedUpstream(b)
	for _, bc := range []struct {
		name   string
		limits Limits
	}{
		{"none", Limits{}},
		{"body", Limits{MaxBody: 64 << 20}},
		{"body+concurrency", Limits{MaxBody: 64 << 20, MaxConcurrency: 1000, QueueTimeout: 10 * time.Second}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := New(discardLogger(), Config{})
			if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0", Hosts: []string{"app.example.com"}, Limits: bc.limits}); err != nil {
				b.Fatal(err)
			}
			p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}, {ID: "b", Addr: up}}}}, 0)
			benchHotPath(b, p, nil)
		})
	}
}
