package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/fleet"
)

// TestHealthyCanaryWithBaselineIsPromoted: a canary with baseline: true runs fresh instances
// of the stable revision with the canary's share, is judged against them (the verdict's
// baseline counts match the canary's share, not stable's) and promoted; the baseline's
// instances are gone at the end and no request failed.
func TestHealthyCanaryWithBaselineIsPromoted(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 3})
	h.wait(first.ID, 30*time.Second)
	stop := startLoad(t, listen, 200)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Replicas: 3, Strategy: `canary:
  baseline: true
  steps:
    - weight: 20
    - analysis: {duration: 6s}
    - pause: {}
  analysis: {min_requests: 50, target_requests: 200}
`})
	var weights map[int]int
	var baselines []string
	waitFor(t, 60*time.Second, "the manual pause after the analysis", func() bool {
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
	weights = svc.Weights
	for _, in := range svc.Instances {
		if fleet.IsBaseline(in.ID) {
			baselines = append(baselines, in.ID)
			if in.Revision != 1 {
				t.Errorf("baseline instance %s runs revision %d, want 1", in.ID, in.Revision)
			}
		}
	}
	if want := map[int]int{1: 60, -1: 20, 2: 20}; weights[1] != want[1] || weights[-1] != want[-1] || weights[2] != want[2] {
		t.Errorf("weights during the canary %v, want %v", weights, want)
	}
	if len(baselines) != 1 {
		t.Errorf("baseline instances %v, want one (20%% of 3, like the canary)", baselines)
	}
	stats := h.d.proxy.Stats("web")
	if stats[-1].Requests == 0 {
		t.Errorf("proxy stats %v: no request reached the baseline (-1)", stats)
	}
	d, err := h.client.Deployment(context.Background(), dep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Verdict == nil || d.Verdict.Outcome != "pass" {
		t.Fatalf("verdict at the pause %+v, want pass", d.Verdict)
	}
	var ev analysis.Evidence
	if err := json.Unmarshal(d.Verdict.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	// Same share: the baseline served about as much as the canary; stable served three times more.
	if c, b := ev.Canary.Requests, ev.Baseline.Requests; c == 0 || b < c/2 || b > 2*c {
		t.Errorf("evidence: canary %d requests, baseline %d; want about equal (judged against the baseline)", c, b)
	}

	if _, err := h.client.Promote(context.Background(), "web", false); err != nil {
		t.Fatal(err)
	}
	got := h.wait(dep.ID, 60*time.Second)
	sum := stop()
	t.Logf("load %s; evidence canary %d baseline %d", sum, ev.Canary.Requests, ev.Baseline.Requests)
	if got.Status != "succeeded" {
		t.Fatalf("deployment: %s %q", got.Status, got.Reason)
	}
	if sum.Failed != 0 {
		t.Errorf("%d failed requests during a healthy canary with baseline", sum.Failed)
	}
	waitFor(t, 20*time.Second, "the baseline instances to stop", func() bool {
		svc, err := h.client.Service(context.Background(), "web")
		if err != nil {
			return false
		}
		for _, in := range svc.Instances {
			if fleet.IsBaseline(in.ID) || in.Revision != 2 {
				return false
			}
		}
		return len(svc.Instances) == 3
	})
	assertServes(t, listen, "v2")
}
