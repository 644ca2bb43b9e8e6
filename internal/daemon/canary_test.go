package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/loadgen"
)

// startLoad sends constant load to listen until the returned stop is called, which returns
// the summary.
func startLoad(t *testing.T, listen string, rate int) (stop func() loadgen.Summary) {
	t.Helper()
	return startLoadFor(t, listen, rate, 5*time.Minute)
}

// startLoadFor is startLoad for at most d.
func startLoadFor(t *testing.T, listen string, rate int, d time.Duration) (stop func() loadgen.Summary) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadgen.Summary, 1)
	go func() {
		sum, _ := loadgen.Run(ctx, loadgen.Config{URL: "http://" + listen + "/", Rate: rate, Workers: 512, Duration: d}, nil)
		done <- sum
	}()
	return func() loadgen.Summary {
		cancel()
		return <-done
	}
}

// TestCanaryWithErrorsIsRolledBack: a canary whose instances fail 5% of requests is judged
// from live traffic and rolled back by itself, with the verdict's evidence.
func TestCanaryWithErrorsIsRolledBack(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	stop := startLoad(t, listen, 200)
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"ERROR_RATE": "0.05"},
		Strategy: "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 2m}\n    - weight: 100\n"})
	got := h.wait(bad.ID, 90*time.Second)
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	sum := stop()
	t.Logf("rolled back after %s; load %s", elapsed.Round(time.Millisecond), sum)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		t.Fatalf("deployment: %s %q verdict %+v; want rolled_back on a fail verdict", got.Status, got.Reason, got.Verdict)
	}
	if !strings.Contains(got.Reason, "error") {
		t.Errorf("reason %q does not speak of errors", got.Reason)
	}
	if sum.ByVersion["v2"] == 0 {
		t.Errorf("the canary served no request: %s", sum)
	}
	if n := sum.ByStatus[500]; n == 0 || n > sum.ByVersion["v2"] {
		t.Errorf("500s %d, canary requests %d: the errors should all come from the canary", n, sum.ByVersion["v2"])
	}
	assertServes(t, listen, "v1")
	assertMetrics(t, h, `cutover_deployments_total{outcome="rolled_back",service="web"} 1`,
		`cutover_deployments_total{outcome="succeeded",service="web"} 1`, `cutover_deployments_started_total{service="web"} 2`,
		`cutover_canary_verdicts_total{outcome="fail",rule="`+got.Verdict.Rule+`",service="web"} 1`)
}

// TestHealthyCanaryIsPromotedThroughItsSteps: weights, a timed pause, an analysis step that
// passes, a manual pause released by promote, then 100%.
func TestHealthyCanaryIsPromotedThroughItsSteps(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	stop := startLoad(t, listen, 200)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Strategy: `canary:
  steps:
    - weight: 10
    - pause: 1s
    - analysis: {duration: 4s}
    - weight: 50
    - pause: {}
  analysis: {min_requests: 20}
`})
	waitFor(t, 60*time.Second, "the manual pause", func() bool {
		d, err := h.client.Deployment(context.Background(), dep.ID)
		if err != nil {
			return false
		}
		if d.Final() {
			t.Fatalf("deployment ended before the manual pause: %s %s", d.Status, d.Reason)
		}
		return strings.Contains(d.Phase, "promote")
	})
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Weights[2] != 50 {
		t.Errorf("weights at the manual pause %v; want revision 2 at 50", svc.Weights)
	}
	if _, err := h.client.Promote(context.Background(), "web", false); err != nil {
		t.Fatal(err)
	}
	got := h.wait(dep.ID, 60*time.Second)
	sum := stop()
	t.Logf("load %s", sum)
	if got.Status != "succeeded" {
		t.Fatalf("deployment: %s %q", got.Status, got.Reason)
	}
	if sum.Failed != 0 {
		t.Errorf("%d failed requests during a healthy canary", sum.Failed)
	}
	assertServes(t, listen, "v2")
}
