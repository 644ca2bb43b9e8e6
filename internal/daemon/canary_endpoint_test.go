package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// TestCanaryBrokenEndpointIsRolledBack: real traffic through the proxy, 98% to / and 2% to
// /checkout; both revisions fail 1% of / requests, and the canary also fails half of its
// /checkout requests. The route names checkout as an endpoint: the canary is rolled back by
// the endpoint's own test, and the verdict names it with its counts. Latency is not judged:
// on a busy host the canary's tail alone may differ (see README, baseline: true).
func TestCanaryBrokenEndpointIsRolledBack(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	withEndpoint := func(s appSpec) string {
		return strings.Replace(h.yaml(s), "  drain_timeout: 5s\n", "  drain_timeout: 5s\n  endpoints:\n    - {name: checkout, paths: [/checkout]}\n", 1)
	}
	first, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Who: "test",
		Spec: withEndpoint(appSpec{Name: "web", Listen: listen, Version: "v1", Env: map[string]string{"ERROR_RATE": "0.01"}})})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(first.ID, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan loadgen.Summary, 2)
	for _, l := range []struct {
		path string
		rate int
	}{{"/", 147}, {"/checkout", 3}} {
		go func() {
			sum, _ := loadgen.Run(ctx, loadgen.Config{URL: "http://" + listen + l.path, Rate: l.rate, Workers: 256, Duration: 5 * time.Minute}, nil)
			done <- sum
		}()
	}
	bad, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Who: "test",
		Spec: withEndpoint(appSpec{Name: "web", Listen: listen, Version: "v2",
			Env:      map[string]string{"ERROR_RATE": "0.01", "PATH_ERROR_RATE": "/checkout=0.5"},
			Strategy: "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 4m}\n  analysis: {latency: false}\n"})})
	if err != nil {
		t.Fatal(err)
	}
	got := h.wait(bad.ID, 4*time.Minute)
	cancel()
	<-done
	<-done
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		t.Fatalf("deployment: %s %q verdict %+v; want rolled back on a fail verdict", got.Status, got.Reason, got.Verdict)
	}
	ev := decodeEvidence(t, *got.Verdict)
	t.Logf("verdict: %s", got.Verdict.Reason)
	if ev.Endpoint != "checkout" || !strings.Contains(got.Reason, "endpoint checkout") {
		t.Errorf("verdict on endpoint %q, reason %q; want the checkout endpoint named", ev.Endpoint, got.Reason)
	}
	if ev.Canary.Errors == 0 || ev.Canary.Requests > ev.Canary.Errors*4 {
		t.Errorf("evidence canary %d errors in %d requests; want checkout's own counts (half failing)", ev.Canary.Errors, ev.Canary.Requests)
	}
	if len(ev.Endpoints) != 1 || ev.Endpoints[0].Name != "checkout" {
		t.Errorf("endpoints evidence %+v, want checkout's", ev.Endpoints)
	}
	assertServes(t, listen, "v1")
}
