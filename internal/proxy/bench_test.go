package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so that a benchmark counts the
// proxy's allocations rather than a recorder's.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkProxyHotPath sends one request at a time through the handler to a real upstream on
// loopback: lookup, balancing, header rewrite, round trip, response copy and counting. The
// sticky case splits the service 90/10 between a stable and a canary revision and assigns
// each request by its "user" cookie.
func BenchmarkProxyHotPath(b *testing.B) {
	up := cannedUpstream(b)
	cases := []struct {
		name   string
		canary CanaryRouting
		groups []Group
		cookie []string
	}{
		{"plain", CanaryRouting{}, []Group{{Revision: 1, Weight: 100, Targets: []Target{
			{ID: "a", Addr: up}, {ID: "b", Addr: up}}}}, nil},
		{"sticky", CanaryRouting{Header: "X-Canary", Sticky: "cookie:user"}, []Group{
			{Revision: 1, Weight: 90, Role: "stable", Targets: []Target{{ID: "a", Addr: up}, {ID: "b", Addr: up}}},
			{Revision: 2, Weight: 10, Role: "canary", Targets: []Target{{ID: "c", Addr: up}}},
		}, []string{"theme=dark; user=alice-1234; lang=en"}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			p := New(discardLogger(), Config{})
			if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0", Hosts: []string{"app.example.com"}, Canary: bc.canary}); err != nil {
				b.Fatal(err)
			}
			p.SetTargets("web", bc.groups, 0)
			benchHotPath(b, p, bc.cookie)
		})
	}
}

// benchHotPath sends requests, with cookie as their Cookie header if set, through p's handler.
func benchHotPath(b *testing.B, p *Proxy, cookie []string) {
	benchHandler(b, &listenerHandler{p: p, slot: p.listeners["127.0.0.1:0"].slot}, cookie)
}

// benchHandler sends the same GET, with cookie as its Cookie header if set, through h.
func benchHandler(b *testing.B, h http.Handler, cookie []string) {
	u, _ := url.Parse("/api/items?page=2")
	base := http.Request{
		Method: "GET", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "app.example.com", RemoteAddr: "127.0.0.1:50000", RequestURI: "/api/items?page=2", Body: http.NoBody,
	}
	w := &discardWriter{h: make(http.Header)}
	hdr := make(http.Header)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		clear(hdr)
		hdr["Accept"] = []string{"*/*"}
		if cookie != nil {
			hdr["Cookie"] = cookie
		}
		r := base
		r.Header = hdr
		h.ServeHTTP(w, &r)
		if w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkCanaryChoice is the route lookup and group and target choice alone, for a request
// assigned by a sticky cookie among a stable, a baseline and a canary revision; it must not
// allocate.
func BenchmarkCanaryChoice(b *testing.B) {
	p := New(discardLogger(), Config{})
	if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0", Canary: CanaryRouting{Header: "X-Canary", Sticky: "cookie:user"}}); err != nil {
		b.Fatal(err)
	}
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 80, Role: "stable", Targets: []Target{{ID: "a", Addr: "127.0.0.1:1"}, {ID: "b", Addr: "127.0.0.1:2"}}},
		{Revision: 2, Weight: 10, Role: "baseline", Targets: []Target{{ID: "c", Addr: "127.0.0.1:3"}}},
		{Revision: 3, Weight: 10, Role: "canary", Targets: []Target{{ID: "d", Addr: "127.0.0.1:4"}}},
	}, 0)
	slot := p.listeners["127.0.0.1:0"].slot
	r := &http.Request{Host: "app.example.com", RemoteAddr: "127.0.0.1:50000",
		Header: http.Header{"Cookie": {"theme=dark; user=alice-1234; lang=en"}}}
	b.ReportAllocs()
	for b.Loop() {
		e := p.table.Load().lookup(slot, r.Host, "/api/items")
		c := e.choice(r, false)
		if _, t := e.svc.traffic.Load().choose(&c, 0); t == nil {
			b.Fatal("no target")
		}
	}
}

// BenchmarkProxyHotPathParallel is BenchmarkProxyHotPath from GOMAXPROCS goroutines at once.
func BenchmarkProxyHotPathParallel(b *testing.B) {
	up := cannedUpstream(b)
	p := New(discardLogger(), Config{})
	if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0"}); err != nil {
		b.Fatal(err)
	}
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}, {ID: "b", Addr: up}}}}, 0)
	h := &listenerHandler{p: p, slot: p.listeners["127.0.0.1:0"].slot}
	u, _ := url.Parse("/api/items")
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header)}
		hdr := make(http.Header)
		for pb.Next() {
			clear(w.h)
			clear(hdr)
			r := http.Request{Method: "GET", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Host: "app.example.com", RemoteAddr: "127.0.0.1:50000", Body: http.NoBody, Header: hdr}
			h.ServeHTTP(w, &r)
			if w.code != 200 {
				b.Errorf("status %d", w.code)
				return
			}
		}
	})
}

// BenchmarkReverseProxyBaseline is the same request through a plain httputil.ReverseProxy,
// for comparison.
func BenchmarkReverseProxyBaseline(b *testing.B) {
	up := cannedUpstream(b)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(&url.URL{Scheme: "http", Host: up})
		pr.SetXForwarded()
	}}
	benchHandler(b, rp, nil)
}

// cannedUpstream serves a fixed keep-alive response to every request without allocating per
// request, so that benchmarks count the proxy's allocations only. It returns its address.
func cannedUpstream(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					// Read one request head: lines until an empty one.
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkRouteLookup looks up a host route among n; it must not allocate. It reports the
// route table's heap per route (each route has one host and two paths).
func BenchmarkRouteLookup(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			routes := make(map[string]Route, n)
			svcs := make(map[string]*serviceSlot, n)
			hosts := make([]string, n)
			for i := range n {
				name := fmt.Sprintf("svc%d", i)
				hosts[i] = fmt.Sprintf("app%d.example.com", i)
				r, err := Route{Service: name, Listen: ":80", Hosts: []string{hosts[i]}, Paths: []string{"/", "/api/"}}.normalize()
				if err != nil {
					b.Fatal(err)
				}
				routes[name] = r
				svcs[name] = &serviceSlot{name: name}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			tbl := buildTable(routes, map[string]int{":80": 0}, svcs)
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if tbl.lookup(0, hosts[i%n], "/api/items") == nil {
					b.Fatal("no route")
				}
				i++
			}
			// After the loop: b.Loop's first call clears reported metrics.
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "table-B/route")
			runtime.KeepAlive(tbl)
			runtime.KeepAlive(routes) // so that the measurement above counts the table only
			runtime.KeepAlive(svcs)
		})
	}
}

// scaleGroup is one revision group of n targets at addr, with IDs unique to the group.
func scaleGroup(n int, addr string) []Group {
	g := Group{Revision: 1, Weight: 100}
	for i := range n {
		g.Targets = append(g.Targets, Target{ID: fmt.Sprintf("i%d", i), Addr: addr})
	}
	return []Group{g}
}

// BenchmarkBalance is route lookup and target choice for a service of n instances, with each
// balancing policy; it must not allocate.
func BenchmarkBalance(b *testing.B) {
	for _, balance := range []string{balanceLeast, balanceRR} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/%d", balance, n), func(b *testing.B) {
				p := New(discardLogger(), Config{})
				if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0", Balance: balance}); err != nil {
					b.Fatal(err)
				}
				p.SetTargets("web", scaleGroup(n, "127.0.0.1:1"), 0)
				slot := p.listeners["127.0.0.1:0"].slot
				r := &http.Request{Host: "app.example.com", RemoteAddr: "127.0.0.1:50000", Header: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					e := p.table.Load().lookup(slot, r.Host, "/api/items")
					c := e.choice(r, false)
					if _, t := e.svc.traffic.Load().choose(&c, 0); t == nil {
						b.Fatal("no target")
					}
				}
			})
		}
	}
}

// BenchmarkProxyHotPathInstances is the whole hot path (as BenchmarkProxyHotPath) for a
// service of n instances, least requests.
func BenchmarkProxyHotPathInstances(b *testing.B) {
	up := cannedUpstream(b)
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := New(discardLogger(), Config{})
			if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0"}); err != nil {
				b.Fatal(err)
			}
			p.SetTargets("web", scaleGroup(n, up), 0)
			benchHotPath(b, p, nil)
		})
	}
}
