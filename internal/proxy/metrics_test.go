package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	// Counters survive a swap that keeps the revision, and a new revision gets its own.
	p.SetTargets("web", []Group{
		{Revision: 3, Weight: 50, Targets: []Target{{ID: "a", Addr: hostOf(statusServer(t))}}},
		{Revision: 4, Weight: 50, Targets: []Target{{ID: "dead", Addr: deadAddr(t)}}},
	}, 0)
	p.SetTargets("web", []Group{{Revision: 4, Weight: 100, Targets: []Target{{ID: "dead", Addr: deadAddr(t)}}}}, 0)
	get(t, addr, "/")

	got := p.Stats("web")
	for rev, c := range got {
		if c.Latency <= 0 {
			t.Errorf("revision %d latency sum = %v, want > 0", rev, c.Latency)
		}
		c.Latency = 0
		got[rev] = c
	}
	want := map[int]Counts{
		3: {Requests: 4, Errors: 1},
		4: {Requests: 1, Errors: 1, ConnectErrors: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	expected := `
# HELP cutover_request_errors_total Request errors: 5xx answers, failed connects and upstream timeouts.
# TYPE cutover_request_errors_total counter
cutover_request_errors_total{kind="5xx",revision="3",service="web"} 1
cutover_request_errors_total{kind="5xx",revision="4",service="web"} 1
cutover_request_errors_total{kind="connect",revision="3",service="web"} 0
cutover_request_errors_total{kind="connect",revision="4",service="web"} 1
cutover_request_errors_total{kind="timeout",revision="3",service="web"} 0
cutover_request_errors_total{kind="timeout",revision="4",service="web"} 0
# HELP cutover_requests_total Requests answered, by service, revision and status class.
# TYPE cutover_requests_total counter
cutover_requests_total{code_class="1xx",revision="3",service="web"} 0
cutover_requests_total{code_class="1xx",revision="4",service="web"} 0
cutover_requests_total{code_class="2xx",revision="3",service="web"} 2
cutover_requests_total{code_class="2xx",revision="4",service="web"} 0
cutover_requests_total{code_class="3xx",revision="3",service="web"} 0
cutover_requests_total{code_class="3xx",revision="4",service="web"} 0
cutover_requests_total{code_class="4xx",revision="3",service="web"} 1
cutover_requests_total{code_class="4xx",revision="4",service="web"} 0
cutover_requests_total{code_class="5xx",revision="3",service="web"} 1
cutover_requests_total{code_class="5xx",revision="4",service="web"} 1
# HELP cutover_upstream_inflight Requests in flight to upstream targets.
# TYPE cutover_upstream_inflight gauge
cutover_upstream_inflight{revision="3",service="web"} 0
cutover_upstream_inflight{revision="4",service="web"} 0
`
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var text strings.Builder
	var count uint64
	for _, f := range families {
		if f.GetName() == "cutover_request_duration_seconds" {
			for _, m := range f.GetMetric() {
				count += m.GetHistogram().GetSampleCount()
			}
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&text, f); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(strings.TrimPrefix(expected, "\n"), text.String()); diff != "" {
		t.Errorf("metrics text (-want +got):\n%s", diff)
	}
	if count != 5 {
		t.Errorf("cutover_request_duration_seconds sample count = %d, want 5", count)
	}
}

func TestObserveBuckets(t *testing.T) {
	var s revStats
	s.observe(200, 1)                // first bucket (≤ 5ms)
	s.observe(200, int64(3e9))       // ≤ 5s
	s.observe(200, int64(3600e9))    // +Inf
	s.observe(502, int64(5_000_000)) // exactly 5ms: first bucket
	got := []int64{s.buckets[0].Load(), s.buckets[9].Load(), s.buckets[len(latencyBounds)].Load()}
	if diff := cmp.Diff([]int64{2, 1, 1}, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if s.errors.Load() != 1 || s.classes[4].Load() != 1 || s.classes[1].Load() != 3 {
		t.Errorf("classes %v, errors %d", []int64{s.classes[1].Load(), s.classes[4].Load()}, s.errors.Load())
	}
}
