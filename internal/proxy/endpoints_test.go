package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/analysis"
)

func TestEndpointMatch(t *testing.T) {
	set := endpointSet{list: []Endpoint{
		{Name: "checkout", Paths: []string{"/checkout"}, Methods: []string{"POST"}},
		{Name: "api", Paths: []string{"/api/"}},
		{Name: "writes", Methods: []string{"PUT", "DELETE"}},
	}}
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/checkout", "checkout"},
		{"POST", "/checkout/pay", "checkout"},
		{"GET", "/checkout", ""},
		{"POST", "/checkouts", ""},
		{"GET", "/api/x", "api"},
		{"DELETE", "/api/x", "api"}, // the first match wins
		{"DELETE", "/x", "writes"},
		{"GET", "/", ""},
	} {
		if got := set.match(tc.method, tc.path, ""); got != tc.want {
			t.Errorf("%s %s: endpoint %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestEndpointCounts(t *testing.T) {
	var s revStats
	s.observe(200, 1000, "checkout")
	s.observe(503, 2000, "checkout")
	s.observe(200, 1000, "")
	for i := range maxEndpointNames + 5 {
		s.observe(200, 1, string(rune('a'+i)))
	}
	c := s.counts()
	if got := c.Endpoints["checkout"]; got.Requests != 2 || got.Errors != 1 || len(got.Latency) == 0 {
		t.Errorf("checkout counts %+v, want 2 requests, 1 error and a histogram", got)
	}
	if len(c.Endpoints) != maxEndpointNames {
		t.Errorf("%d endpoints kept, want at most %d", len(c.Endpoints), maxEndpointNames)
	}
	if c.Requests != int64(maxEndpointNames+8) {
		t.Errorf("revision requests %d: every request counts for the revision", c.Requests)
	}
}

func TestEndpointMatchByResponseHeader(t *testing.T) {
	set := newEndpointSet(Route{EndpointHeader: "x-endpoint", Endpoints: []Endpoint{
		{Name: "pay", HeaderValues: []string{"payment", "refund"}},
		{Name: "graphql-writes", Paths: []string{"/graphql"}, HeaderValues: []string{"mutation"}},
		{Name: "static", Paths: []string{"/static"}},
	}})
	if set.header != "X-Endpoint" {
		t.Fatalf("header key %q, want the canonical X-Endpoint", set.header)
	}
	for _, tc := range []struct{ method, path, value, want string }{
		{"POST", "/graphql", "payment", "pay"},
		{"GET", "/anything", "refund", "pay"},
		{"POST", "/graphql", "mutation", "graphql-writes"},
		{"POST", "/rpc", "mutation", ""}, // the path narrows it too
		{"POST", "/graphql", "query", ""},
		{"POST", "/graphql", "", ""},
		{"GET", "/static/a.css", "payment", "pay"}, // the first match wins
		{"GET", "/static/a.css", "", "static"},
		{"GET", "/", "PAYMENT", ""}, // values are exact
	} {
		if got := set.match(tc.method, tc.path, tc.value); got != tc.want {
			t.Errorf("%s %s with %q: endpoint %q, want %q", tc.method, tc.path, tc.value, got, tc.want)
		}
	}
}

// TestEndpointByResponseHeaderThroughProxy: an app names each answer's group in a response
// header; the real proxy counts the groups apart, and strips the header from what clients get
// when the route asks it to (and only then).
func TestEndpointByResponseHeaderThroughProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.URL.Query().Get("op") // one path, groups decided by the handler, as with GraphQL
		w.Header().Set("X-Endpoint", op)
		if op == "checkout" && r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		io.WriteString(w, op)
	}))
	t.Cleanup(app.Close)
	for _, strip := range []bool{false, true} {
		t.Run(fmt.Sprint("strip ", strip), func(t *testing.T) {
			p := startProxy(t, Config{})
			addr := route(t, p, Route{Service: "web", EndpointHeader: "X-Endpoint", StripEndpointHeader: strip,
				Endpoints: []Endpoint{{Name: "checkout", HeaderValues: []string{"checkout"}}, {Name: "search", HeaderValues: []string{"search"}}}})
			p.SetTargets("web", []Group{{Revision: 2, Weight: 100, Targets: []Target{{ID: "a", Addr: hostOf(app)}}}}, 0)
			var seen []string
			for _, q := range []string{"op=checkout", "op=checkout&fail=1", "op=checkout&fail=1", "op=search", "op=other", ""} {
				resp, err := http.Get("http://" + addr + "/graphql?" + q)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				seen = append(seen, resp.Header.Get("X-Endpoint"))
			}
			c := p.Stats("web")[2]
			if got := c.Endpoints["checkout"]; got.Requests != 3 || got.Errors != 2 {
				t.Errorf("checkout counted %d requests, %d errors; want 3 and 2", got.Requests, got.Errors)
			}
			if got := c.Endpoints["search"]; got.Requests != 1 || got.Errors != 0 {
				t.Errorf("search counted %d requests, %d errors; want 1 and 0", got.Requests, got.Errors)
			}
			if c.Requests != 6 || len(c.Endpoints) != 2 {
				t.Errorf("revision counted %d requests in endpoints %v; want 6, two endpoints", c.Requests, c.Endpoints)
			}
			want := "checkout,checkout,checkout,search,other,"
			if strip {
				want = ",,,,,"
			}
			if got := strings.Join(seen, ","); got != want {
				t.Errorf("clients saw X-Endpoint %q, want %q", got, want)
			}
		})
	}
}

// TestHeaderGroupJudged: a canary whose app fails half of the answers it puts in the
// "checkout" group (by its X-Endpoint response header), both revisions failing 10% of the
// other answers (which dilutes the regression in the whole traffic), served
// through the real proxy at a 50% share; the judge, fed the proxy's counters, fails it on
// that group and its verdict names the group.
func TestHeaderGroupJudged(t *testing.T) {
	app := func(failing bool) *httptest.Server {
		n := 0
		var mu sync.Mutex
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			op := r.URL.Query().Get("op")
			w.Header().Set("X-Endpoint", op)
			mu.Lock()
			n++
			fail := (failing && op == "checkout" && n%2 == 0) || (op != "checkout" && n%10 == 0)
			mu.Unlock()
			if fail {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
		t.Cleanup(s.Close)
		return s
	}
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", EndpointHeader: "X-Endpoint", StripEndpointHeader: true,
		Endpoints: []Endpoint{{Name: "checkout", HeaderValues: []string{"checkout"}}}})
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 50, Role: "stable", Targets: []Target{{ID: "s", Addr: hostOf(app(false))}}},
		{Revision: 2, Weight: 50, Role: "canary", Targets: []Target{{ID: "c", Addr: hostOf(app(true))}}},
	}, 0)
	j, err := analysis.NewStrata(analysis.Config{SkipLatency: true}, []string{"checkout"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	toAnalysis := func(c Counts) analysis.Counts {
		out := analysis.Counts{Requests: c.Requests, Errors: c.Errors, Endpoints: map[string]analysis.Counts{}}
		for name, e := range c.Endpoints {
			out.Endpoints[name] = analysis.Counts{Requests: e.Requests, Errors: e.Errors}
		}
		return out
	}
	var v analysis.Verdict
	for i := range 2000 {
		op := "browse"
		if i%10 == 0 {
			op = "checkout"
		}
		resp, err := http.Get("http://" + addr + "/graphql?op=" + op)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i%20 == 19 {
			st := p.Stats("web")
			j.Observe(analysis.Sample{Canary: toAnalysis(st[2]), Baseline: toAnalysis(st[1])})
			if v = j.Verdict(); v.Outcome == analysis.Fail {
				break
			}
		}
	}
	if v.Outcome != analysis.Fail || v.Evidence.Endpoint != "checkout" || !strings.Contains(v.Reason, "checkout") {
		t.Fatalf("verdict %s on endpoint %q: %s; want a fail naming checkout", v.Outcome, v.Evidence.Endpoint, v.Reason)
	}
	t.Logf("verdict: %s", v.Reason)
}
