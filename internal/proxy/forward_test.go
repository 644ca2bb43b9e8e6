package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDrain(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	arrived := make(chan string, 1)
	release := make(chan struct{})
	slow := blocking(t, "old", arrived, release)
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "old", Addr: hostOf(slow)}}}}, 0)

	result := make(chan answer, 1)
	go func() { result <- get(t, addr, "/") }()
	<-arrived
	p.SetTargets("web", []Group{{Revision: 2, Weight: 100, Targets: []Target{{ID: "new", Addr: hostOf(named(t, "new"))}}}}, 0)
	if got := get(t, addr, "/"); got.body != "new" {
		t.Errorf("after the swap: got %q, want new", got.body)
	}
	if got := p.InFlight("old"); got != 1 {
		t.Errorf("InFlight(old) with a slow request = %d, want 1", got)
	}

	drained := make(chan error, 1)
	go func() { drained <- p.Drain(context.Background(), "old", 10*time.Second) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-result; got.status != 200 || got.body != "old" {
		t.Errorf("in-flight request on the removed target: got %d %q, want 200 old", got.status, got.body)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain: %v", err)
	}
	if got := p.InFlight("old"); got != 0 {
		t.Errorf("InFlight(old) after Drain = %d, want 0", got)
	}
	p.mu.Lock()
	_, kept := p.targets["old"]
	p.mu.Unlock()
	if kept {
		t.Errorf("drained target is still in the registry")
	}
}

func TestDrainTimeout(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	arrived := make(chan string, 1)
	release := make(chan struct{})
	defer close(release)
	p.SetTargets("web", one(blocking(t, "slow", arrived, release)), 0)
	go get(t, addr, "/")
	<-arrived
	if err := p.Drain(context.Background(), "ta", 50*time.Millisecond); err == nil {
		t.Errorf("Drain with a request stuck in flight: got nil error")
	}
	if err := p.Drain(context.Background(), "unknown", time.Second); err != nil {
		t.Errorf("Drain(unknown): %v", err)
	}
}

func TestRetryOnRefusedConnection(t *testing.T) {
	p := startProxy(t, Config{EjectDuration: -1}) // no ejection: every other pick is the dead one
	addr := route(t, p, Route{Service: "web", Balance: "round_robin"})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{
		{ID: "dead", Addr: deadAddr(t)}, {ID: "live", Addr: hostOf(named(t, "live"))}}}}, 0)
	for i := range 6 {
		if got := get(t, addr, "/"); got.status != 200 || got.body != "live" {
			t.Errorf("GET %d: got %d %q, want 200 live", i, got.status, got.body)
		}
	}
	statuses := map[int]int{}
	for range 6 {
		statuses[do(t, http.DefaultClient, "POST", "http://"+addr+"/", "", nil).status]++
	}
	if statuses[502] != 3 || statuses[200] != 3 {
		t.Errorf("6 POSTs alternating over a dead and a live target: got %v, want 3×502 and 3×200", statuses)
	}
	key := http.Header{"Idempotency-Key": {"k1"}}
	for i := range 4 {
		if got := do(t, http.DefaultClient, "POST", "http://"+addr+"/", "", key); got.status != 200 {
			t.Errorf("POST %d with Idempotency-Key: got %d, want 200", i, got.status)
		}
	}
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "dead", Addr: deadAddr(t)}}}}, 0)
	if got := get(t, addr, "/"); got.status != http.StatusBadGateway || got.body != "upstream unavailable\n" {
		t.Errorf("GET with only a dead target: got %d %q, want 502", got.status, got.body)
	}
}

func TestEjection(t *testing.T) {
	p := startProxy(t, Config{EjectDuration: time.Hour})
	addr := route(t, p, Route{Service: "web", Balance: "round_robin"})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{
		{ID: "dead", Addr: deadAddr(t)}, {ID: "live", Addr: hostOf(named(t, "live"))}}}}, 0)
	failed := 0
	for range 10 {
		if got := do(t, http.DefaultClient, "POST", "http://"+addr+"/", "", nil); got.status != 200 {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("10 POSTs over a dead and a live target: %d failed, want 1 (then the dead one is ejected)", failed)
	}
	if got := p.Stats("web")[1].ConnectErrors; got != 1 {
		t.Errorf("connect errors with ejection: got %d, want 1 (the first refusal only)", got)
	}
}

func TestEjectionExpires(t *testing.T) {
	g := &group{targets: []*target{{id: "a"}, {id: "b"}}}
	g.targets[0].ejectUntil.Store(100)
	for _, now := range []int64{0, 50, 99} {
		for range 5 {
			if got := g.pick(false, now, nil); got.id != "b" {
				t.Fatalf("pick at %d with a ejected until 100: got %s, want b", now, got.id)
			}
		}
	}
	seen := map[string]bool{}
	for range 100 {
		seen[g.pick(false, 100, nil).id] = true
	}
	if !seen["a"] {
		t.Errorf("a is never picked once its ejection expired")
	}
	g.targets[1].ejectUntil.Store(100)
	tr := &traffic{groups: []*group{g}}
	if _, got := tr.choose(&choice{}, 50); got == nil {
		t.Errorf("all targets ejected: choose returned no target, want one anyway")
	}
}

func TestUpstreamTimeout(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Timeout: 100 * time.Millisecond})
	release := make(chan struct{})
	defer close(release)
	p.SetTargets("web", one(blocking(t, "slow", make(chan string, 10), release)), 0)
	start := time.Now()
	got := get(t, addr, "/")
	if got.status != http.StatusGatewayTimeout {
		t.Errorf("slow upstream: got %d %q, want 504", got.status, got.body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("504 took %v", d)
	}
	if c := p.Stats("web")[1]; c.Timeouts != 1 || c.Errors != 1 {
		t.Errorf("stats after a timeout: got %+v, want 1 timeout and 1 error", c)
	}
}

func TestHeaders(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	seen := make(chan http.Header, 2)
	hosts := make(chan string, 2)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		hosts <- r.Host
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-App", "yes")
	}))
	defer up.Close()
	p.SetTargets("web", one(up), 0)

	got := do(t, http.DefaultClient, "GET", "http://"+addr+"/", "App.Example.com:8080", http.Header{
		"X-Forwarded-For":     {"203.0.113.7"},
		"Connection":          {"X-Private"},
		"X-Private":           {"no"},
		"Proxy-Authorization": {"Basic eA=="},
		"X-Forwarded-Proto":   {"https"},
	})
	h := <-seen
	want := map[string]string{
		"X-Forwarded-For":     "127.0.0.1", // not a trusted proxy: overwritten
		"X-Forwarded-Proto":   "http",
		"X-Forwarded-Host":    "App.Example.com:8080",
		"X-Private":           "",
		"Proxy-Authorization": "",
		"User-Agent":          "Go-http-client/1.1",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("upstream saw %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if host := <-hosts; host != "App.Example.com:8080" {
		t.Errorf("upstream saw Host %q, want the client's", host)
	}
	id := h.Get("X-Request-Id")
	if id == "" || got.header.Get("X-Request-Id") != id {
		t.Errorf("request id: upstream saw %q, client got %q; want the same generated id", id, got.header.Get("X-Request-Id"))
	}
	if got.header.Get("X-Hop") != "" || got.header.Get("Keep-Alive") != "" || got.header.Get("X-App") != "yes" {
		t.Errorf("response headers: got %v, want X-App without X-Hop and Keep-Alive", got.header)
	}

	got = do(t, http.DefaultClient, "GET", "http://"+addr+"/", "", http.Header{"X-Request-Id": {"abc-123"}})
	if up := (<-seen).Get("X-Request-Id"); up != "abc-123" || got.header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("client's request id: upstream saw %q, client got %q; want abc-123", up, got.header.Get("X-Request-Id"))
	}
	<-hosts
}

func TestPreview(t *testing.T) {
	p := startProxy(t, Config{})
	addr, previewAddr := routeSpare(t, p, Route{Service: "web", PreviewHeader: "X-Preview"}, true)
	stable := Group{Revision: 1, Weight: 100, Targets: []Target{{ID: "s", Addr: hostOf(named(t, "stable"))}}}
	green := Group{Revision: 2, Weight: 0, Targets: []Target{{ID: "g", Addr: hostOf(named(t, "green"))}}}

	p.SetTargets("web", []Group{stable}, 0)
	if got := get(t, previewAddr, "/"); got.status != http.StatusServiceUnavailable {
		t.Errorf("preview listener without a preview revision: got %d, want 503", got.status)
	}
	if got := do(t, http.DefaultClient, "GET", "http://"+addr+"/", "", http.Header{"X-Preview": {"1"}}); got.body != "stable" {
		t.Errorf("preview header without a preview revision: got %q, want stable", got.body)
	}

	p.SetTargets("web", []Group{stable, green}, 2)
	for range 5 {
		if got := get(t, addr, "/"); got.body != "stable" {
			t.Errorf("plain request: got %q, want stable", got.body)
		}
		if got := get(t, previewAddr, "/"); got.body != "green" {
			t.Errorf("preview listener: got %q, want green", got.body)
		}
		if got := do(t, http.DefaultClient, "GET", "http://"+addr+"/", "", http.Header{"X-Preview": {"1"}}); got.body != "green" {
			t.Errorf("preview header: got %q, want green", got.body)
		}
	}
}

func TestStreamingBodyIsNotBuffered(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, strings.Repeat("x", 100<<10))
	}))
	defer up.Close()
	p.SetTargets("web", one(up), 0)
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader(strings.Repeat("y", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) != 100<<10 {
		t.Errorf("large body: got %d bytes (read error %v), want %d", len(b), err, 100<<10)
	}
}
