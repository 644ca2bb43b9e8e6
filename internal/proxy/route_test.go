package proxy

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRouting(t *testing.T) {
	p := startProxy(t, Config{})
	routes := []Route{
		{Service: "site", Hosts: []string{"a.example.com"}},
		{Service: "api", Hosts: []string{"A.example.com"}, Paths: []string{"/api"}},
		{Service: "apiv2", Hosts: []string{"a.example.com"}, Paths: []string{"/api/v2/"}},
		{Service: "wild", Hosts: []string{"*.example.com"}},
		{Service: "deepwild", Hosts: []string{"*.b.example.com"}},
		{Service: "fallback", Paths: []string{"/static/"}},
	}
	var addr string
	for _, r := range routes {
		addr = route(t, p, r)
		p.SetTargets(r.Service, one(named(t, r.Service)), 0)
	}
	tests := []struct {
		host, path, want string
		status           int
	}{
		{"a.example.com", "/", "site", 200},
		{"A.EXAMPLE.COM:8080", "/x", "site", 200},
		{"a.example.com.", "/x", "site", 200},
		{"a.example.com", "/api", "api", 200},
		{"a.example.com", "/api/users", "api", 200},
		{"a.example.com", "/apix", "site", 200},
		{"a.example.com", "/api/v2/x", "apiv2", 200},
		{"a.example.com", "/api/v2", "api", 200},
		{"c.example.com", "/anything", "wild", 200},
		{"x.c.example.com", "/anything", "wild", 200},
		{"x.b.example.com", "/", "deepwild", 200},
		{"example.com", "/static/app.js", "fallback", 200},
		{"other.org", "/static/app.js", "fallback", 200},
		{"other.org", "/", "no route\n", 404},
		{"example.com", "/", "no route\n", 404},
	}
	for _, tc := range tests {
		got := do(t, http.DefaultClient, "GET", "http://"+addr+tc.path, tc.host, nil)
		if got.status != tc.status || got.body != tc.want {
			t.Errorf("GET %s%s = %d %q, want %d %q", tc.host, tc.path, got.status, got.body, tc.status, tc.want)
		}
	}

	p.RemoveRoute("api")
	if got := do(t, http.DefaultClient, "GET", "http://"+addr+"/api/users", "a.example.com", nil); got.body != "site" {
		t.Errorf("after RemoveRoute(api): GET /api/users = %q, want site", got.body)
	}
}

func TestNoTarget503(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100}}, 0)
	got := get(t, addr, "/")
	if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") != "1" {
		t.Errorf("no targets: got %d Retry-After %q, want 503 and 1", got.status, got.header.Get("Retry-After"))
	}
	p.SetTargets("web", one(named(t, "v1")), 0)
	if got := get(t, addr, "/"); got.status != 200 || got.body != "v1" {
		t.Errorf("with a target: got %d %q, want 200 v1", got.status, got.body)
	}
}

func TestConflict(t *testing.T) {
	base := Route{Service: "a", Listen: ":8080", Hosts: []string{"a.com"}, Paths: []string{"/api"}}
	tests := []struct {
		name string
		b    Route
		want bool
	}{
		{"same everything", Route{Service: "b", Listen: ":8080", Hosts: []string{"A.com"}, Paths: []string{"/api"}}, true},
		{"other listen", Route{Service: "b", Listen: ":8081", Hosts: []string{"a.com"}, Paths: []string{"/api"}}, false},
		{"other host", Route{Service: "b", Listen: ":8080", Hosts: []string{"b.com"}, Paths: []string{"/api"}}, false},
		{"other path", Route{Service: "b", Listen: ":8080", Hosts: []string{"a.com"}, Paths: []string{"/web"}}, false},
		{"longer path", Route{Service: "b", Listen: ":8080", Hosts: []string{"a.com"}, Paths: []string{"/api/v2"}}, false},
		{"any host vs host", Route{Service: "b", Listen: ":8080", Paths: []string{"/api"}}, false},
		{"wildcard vs host", Route{Service: "b", Listen: ":8080", Hosts: []string{"*.a.com"}, Paths: []string{"/api"}}, false},
		{"one host shared", Route{Service: "b", Listen: ":8080", Hosts: []string{"b.com", "a.com"}, Paths: []string{"/x", "/api"}}, true},
		{"preview listen on listen", Route{Service: "b", Listen: ":9000", PreviewListen: ":8080", Hosts: []string{"a.com"}, Paths: []string{"/api"}}, true},
		{"internal on listen, other host", Route{Service: "b", Listen: ":9000", Internal: []string{":8080"}, Hosts: []string{"b.com"}}, true},
		{"other internal", Route{Service: "b", Listen: ":8080", Internal: []string{":9001"}, Hosts: []string{"b.com"}}, false},
	}
	for _, tc := range tests {
		if got := Conflict(base, tc.b); got != tc.want {
			t.Errorf("%s: Conflict = %v, want %v", tc.name, got, tc.want)
		}
		if got := Conflict(tc.b, base); got != tc.want {
			t.Errorf("%s: Conflict reversed = %v, want %v", tc.name, got, tc.want)
		}
	}
	anyRoot := Route{Listen: ":80"}
	if !Conflict(anyRoot, Route{Listen: ":80", Paths: []string{"/"}}) {
		t.Errorf("two any-host root routes on :80 do not conflict")
	}
}

func TestSetRouteErrors(t *testing.T) {
	p := startProxy(t, Config{})
	route(t, p, Route{Service: "one", Hosts: []string{"a.com"}})
	err := p.SetRoute(Route{Service: "two", Listen: "127.0.0.1:0", Hosts: []string{"a.com"}})
	if err == nil || !strings.Contains(err.Error(), "service one") {
		t.Errorf("conflicting SetRoute: got %v, want an error naming service one", err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = p.SetRoute(Route{Service: "three", Listen: taken.Addr().String()})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("SetRoute on a taken address: got %v, want address in use", err)
	}
	if err := p.SetRoute(Route{Service: "four", Listen: "127.0.0.1:0", Balance: "random"}); err == nil {
		t.Errorf("SetRoute with balance random: got nil error")
	}
}

func TestListenerLifecycle(t *testing.T) {
	p := New(discardLogger(), Config{ShutdownTimeout: 5 * time.Second})
	before := route(t, p, Route{Service: "early", Listen: "127.0.0.1:0"})
	p.SetTargets("early", one(named(t, "early")), 0)

	ctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if got := get(t, before, "/"); got.body != "early" {
		t.Errorf("route set before Run: got %q, want early", got.body)
	}
	after, _ := routeSpare(t, p, Route{Service: "late"}, false)
	p.SetTargets("late", one(named(t, "late")), 0)
	if got := get(t, after, "/"); got.body != "late" {
		t.Errorf("route set after Run: got %q, want late", got.body)
	}
	if got := len(p.Addrs()); got != 2 {
		t.Errorf("Addrs: got %d addresses, want 2", got)
	}
	p.RemoveRoute("late")
	if c, err := net.DialTimeout("tcp", after, time.Second); err == nil {
		c.Close()
		t.Errorf("listener of a removed route still accepts")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if c, err := net.DialTimeout("tcp", before, time.Second); err == nil {
		c.Close()
		t.Errorf("listener still accepts after Run returned")
	}
	if err := p.SetRoute(Route{Service: "x", Listen: "127.0.0.1:0"}); err == nil {
		t.Errorf("SetRoute after Run returned: got nil error")
	}
}

func TestTableLookupUnit(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.com", "a.com"}, {"a.com:80", "a.com"}, {"[::1]:80", "::1"}, {"::1", "::1"}, {"", ""},
	}
	for _, tc := range tests {
		if got := stripPort(tc.in); got != tc.want {
			t.Errorf("stripPort(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		path, prefix string
		want         bool
	}{
		{"/api", "/api", true}, {"/api/x", "/api", true}, {"/apix", "/api", false},
		{"/api/x", "/api/", true}, {"/api", "/api/", false}, {"/x", "/", true},
	} {
		if got := prefixMatch(tc.path, tc.prefix); got != tc.want {
			t.Errorf("prefixMatch(%q, %q) = %v, want %v", tc.path, tc.prefix, got, tc.want)
		}
	}
}

// TestInternalAddress serves a route on its internal address for any host, as on its listen
// address for its own hosts only.
func TestInternalAddress(t *testing.T) {
	p := startProxy(t, Config{})
	v1 := named(t, "v1")
	internal := deadAddr(t)
	listen := route(t, p, Route{Service: "web", Hosts: []string{"example.com"}, Internal: []string{internal}})
	p.SetTargets("web", one(v1), 0)
	if got := do(t, http.DefaultClient, http.MethodGet, "http://"+internal+"/", "web:8080", nil); got.status != 200 || got.body != "v1" {
		t.Errorf("internal address, host web: %d %q; want 200 v1", got.status, got.body)
	}
	if got := do(t, http.DefaultClient, http.MethodGet, "http://"+listen+"/", "web:8080", nil); got.status != 404 {
		t.Errorf("listen address, host web: %d %q; want 404 (the route's hosts apply there)", got.status, got.body)
	}
	p.RemoveRoute("web")
	if _, err := net.Dial("tcp", internal); err == nil {
		t.Errorf("the internal address still accepts once the route is gone")
	}
}
