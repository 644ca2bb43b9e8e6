package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/latency"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// statusServer answers with the status in the path: /500 → 500.
func statusServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusOK
		switch r.URL.Path {
		case "/500":
			code = 500
		case "/404":
			code = 404
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestStatsAndMetrics(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	p.SetTargets("web", []Group{{Revision: 3, Weight: 100, Targets: []Target{{ID: "a", Addr: hostOf(statusServer(t))}}}}, 0)
	for _, path := range []string{"/", "/", "/404", "/500"} {
		get(t, addr, path)
	}
	if got, want := gatherText(t, p, "cutover_upstream_inflight"), `cutover_upstream_inflight{revision="3",role="unknown",service="web"} 0`; !strings.Contains(got, want) {
		t.Errorf("metrics before roles:\n%s\nwant a line %s", got, want)
	}
	// Counters survive a swap that keeps the revision, and a new revision gets its own; a
	// revision keeps them when its role changes from canary to stable.
	p.SetTargets("web", []Group{
		{Revision: 3, Weight: 0, Role: "stable", Targets: []Target{{ID: "a", Addr: hostOf(statusServer(t))}}},
		{Revision: 4, Weight: 100, Role: "canary", Targets: []Target{{ID: "b", Addr: hostOf(statusServer(t))}}},
	}, 0)
	get(t, addr, "/")
	p.SetTargets("web", []Group{{Revision: 4, Weight: 100, Role: "stable", Targets: []Target{{ID: "dead", Addr: deadAddr(t)}}}}, 0)
	get(t, addr, "/")

	got := p.Stats("web")
	for rev, c := range got {
		if c.LatencySum <= 0 {
			t.Errorf("revision %d latency sum = %v, want > 0", rev, c.LatencySum)
		}
		if len(c.Latency) != latency.Buckets {
			t.Errorf("revision %d: %d histogram buckets, want %d", rev, len(c.Latency), latency.Buckets)
		}
		var n int64
		for _, b := range c.Latency {
			n += b
		}
		if n != c.Requests {
			t.Errorf("revision %d: histogram counts add up to %d, want Requests %d", rev, n, c.Requests)
		}
		c.LatencySum = 0
		c.Latency = nil
		got[rev] = c
	}
	want := map[int]Counts{
		3: {Requests: 4, Errors: 1},
		4: {Requests: 2, Errors: 1, ConnectErrors: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	expected := `
# HELP cutover_client_errors_total Requests that failed on the client's side (gone, body cut, malformed, too large or stalled); not the revision's errors.
# TYPE cutover_client_errors_total counter
cutover_client_errors_total{revision="3",role="stable",service="web"} 0
cutover_client_errors_total{revision="4",role="stable",service="web"} 0
# HELP cutover_request_errors_total Request errors: 5xx answers, failed connects and upstream timeouts.
# TYPE cutover_request_errors_total counter
cutover_request_errors_total{kind="5xx",revision="3",role="stable",service="web"} 1
cutover_request_errors_total{kind="5xx",revision="4",role="stable",service="web"} 1
cutover_request_errors_total{kind="connect",revision="3",role="stable",service="web"} 0
cutover_request_errors_total{kind="connect",revision="4",role="stable",service="web"} 1
cutover_request_errors_total{kind="timeout",revision="3",role="stable",service="web"} 0
cutover_request_errors_total{kind="timeout",revision="4",role="stable",service="web"} 0
# HELP cutover_requests_total Requests answered, by service, revision, role and status class.
# TYPE cutover_requests_total counter
cutover_requests_total{code_class="1xx",revision="3",role="stable",service="web"} 0
cutover_requests_total{code_class="1xx",revision="4",role="stable",service="web"} 0
cutover_requests_total{code_class="2xx",revision="3",role="stable",service="web"} 2
cutover_requests_total{code_class="2xx",revision="4",role="stable",service="web"} 1
cutover_requests_total{code_class="3xx",revision="3",role="stable",service="web"} 0
cutover_requests_total{code_class="3xx",revision="4",role="stable",service="web"} 0
cutover_requests_total{code_class="4xx",revision="3",role="stable",service="web"} 1
cutover_requests_total{code_class="4xx",revision="4",role="stable",service="web"} 0
cutover_requests_total{code_class="5xx",revision="3",role="stable",service="web"} 1
cutover_requests_total{code_class="5xx",revision="4",role="stable",service="web"} 1
# HELP cutover_upstream_inflight Requests in flight to upstream targets.
# TYPE cutover_upstream_inflight gauge
cutover_upstream_inflight{revision="3",role="stable",service="web"} 0
cutover_upstream_inflight{revision="4",role="stable",service="web"} 0
`
	if diff := cmp.Diff(strings.TrimPrefix(expected, "\n"), gatherText(t, p, "")); diff != "" {
		t.Errorf("metrics text (-want +got):\n%s", diff)
	}
	hist := gatherText(t, p, "cutover_request_duration_seconds")
	for _, line := range []string{
		`cutover_request_duration_seconds_count{revision="3",role="stable",service="web"} 4`,
		`cutover_request_duration_seconds_count{revision="4",role="stable",service="web"} 2`,
		`cutover_request_duration_seconds_bucket{revision="4",role="stable",service="web",le="10"} 2`,
	} {
		if !strings.Contains(hist, line) {
			t.Errorf("histogram text:\n%s\nwant a line %s", hist, line)
		}
	}
}

// gatherText returns the proxy's metrics in the text format: the family called name, or every
// family but the request-duration histogram (whose sums vary) when name is "".
func gatherText(t *testing.T, p *Proxy, name string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var text strings.Builder
	for _, f := range families {
		if name == "" && f.GetName() == "cutover_request_duration_seconds" || name != "" && f.GetName() != name {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&text, f); err != nil {
			t.Fatal(err)
		}
	}
	return text.String()
}

func TestObserveBuckets(t *testing.T) {
	var s revStats
	s.observe(200, 1, "")                // first bucket (≤ 5ms)
	s.observe(200, int64(3e9), "")       // ≤ 5s
	s.observe(200, int64(3600e9), "")    // +Inf
	s.observe(502, int64(5_000_000), "") // exactly 5ms: first bucket
	got := []int64{s.buckets[0].Load(), s.buckets[9].Load(), s.buckets[len(latencyBounds)].Load()}
	if diff := cmp.Diff([]int64{2, 1, 1}, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if s.errors.Load() != 1 || s.classes[4].Load() != 1 || s.classes[1].Load() != 3 {
		t.Errorf("classes %v, errors %d", []int64{s.classes[1].Load(), s.classes[4].Load()}, s.errors.Load())
	}
}

func TestLatencyBoundsFit(t *testing.T) {
	if len(LatencyBounds)+1 > maxBuckets {
		t.Errorf("%d bounds need %d buckets, revStats has %d", len(LatencyBounds), len(LatencyBounds)+1, maxBuckets)
	}
}

func TestStatsLatencyHistogram(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
	}))
	t.Cleanup(slow.Close)
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "slow", Addr: hostOf(slow)}}}}, 0)
	for range 5 {
		get(t, addr, "/")
	}
	c := p.Stats("web")[1]
	if c.Requests != 5 {
		t.Fatalf("Requests = %d, want 5", c.Requests)
	}
	// Every request took at least 30 ms: none may sit in a bucket that ends below.
	var n int64
	for i, b := range c.Latency {
		if i < latency.Buckets-1 && latency.Bound(i) < 30*time.Millisecond && b != 0 {
			t.Errorf("bucket ≤ %v has %d requests that took at least 30ms", latency.Bound(i), b)
		}
		n += b
	}
	if n != c.Requests {
		t.Errorf("histogram %v adds up to %d, want Requests %d", c.Latency, n, c.Requests)
	}
}

// TestBaselineGroupMetrics: a canary's baseline group, under the negative of its revision,
// has its own Stats and is labelled with its real revision and role baseline.
func TestBaselineGroupMetrics(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	p.SetTargets("web", []Group{
		{Revision: 3, Weight: 0, Role: "stable", Targets: []Target{{ID: "a", Addr: hostOf(statusServer(t))}}},
		{Revision: -3, Weight: 100, Role: "baseline", Targets: []Target{{ID: "b", Addr: hostOf(statusServer(t))}}},
	}, 0)
	get(t, addr, "/")
	get(t, addr, "/500")
	if got := p.Stats("web"); got[-3].Requests != 2 || got[-3].Errors != 1 || got[3].Requests != 0 {
		t.Errorf("Stats = %+v, want 2 requests (1 error) on -3 and none on 3", got)
	}
	got := gatherText(t, p, "cutover_requests_total")
	for _, want := range []string{`revision="3",role="baseline",service="web"} 1`, `code_class="5xx",revision="3",role="baseline"`} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics:\n%s\nwant %s", got, want)
		}
	}
	if strings.Contains(got, `revision="-3"`) {
		t.Errorf("metrics label a negative revision:\n%s", got)
	}
}

// BenchmarkObserve is the proxy's per-request cost of counting a request (counters, coarse
// and fine histograms) on one goroutine.
func BenchmarkObserve(b *testing.B) {
	var s revStats
	b.ReportAllocs()
	ns := int64(20_000_000)
	for b.Loop() {
		s.observe(200, ns, "")
		ns += 7919
		if ns > 30_000_000 {
			ns = 20_000_000
		}
	}
}
