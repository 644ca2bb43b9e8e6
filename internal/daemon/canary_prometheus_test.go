package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/promtest"
)

// TestCanaryJudgedOnPrometheusCounts: a real Prometheus (scripts/install-prometheus) scrapes
// the demo app's own counters, labelled by revision; the canary fails 5% of its requests and
// the proxy's own tests are off, so only the Prometheus counts, judged by the exact
// sequential test, can roll it back. The verdict names the check with its counts.
func TestCanaryJudgedOnPrometheusCounts(t *testing.T) {
	base, targets := promtest.Require(t)
	run := fmt.Sprintf("daemon-%d", time.Now().UnixNano())
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	stop := startLoad(t, listen, 100)
	defer stop()
	q := func(metric string) string {
		return fmt.Sprintf(`sum(%s{cutover_test_run="%s",revision="{{revision}}"})`, metric, run)
	}
	strategy := fmt.Sprintf(`canary:
  steps:
    - weight: 20
    - analysis: {duration: 4m}
  analysis:
    errors: false
    latency: false
    prometheus:
      - {name: app, url: %q, interval: 1s, requests: '%s', errors: '%s'}
`, base, q("demoapp_requests_total"), q("demoapp_errors_total"))
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"ERROR_RATE": "0.05"}, Strategy: strategy})
	// Prometheus learns each instance's revision from its scrape target's labels, as pod
	// labels would give it on Kubernetes.
	waitFor(t, 60*time.Second, "targets of both revisions scraped", func() bool {
		return writeTargets(t, h, targets, run) && promCount(t, base, fmt.Sprintf(`count(up{cutover_test_run=%q} == 1)`, run)) >= 3
	})
	got := h.wait(bad.ID, 4*time.Minute)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		t.Fatalf("deployment: %s %q verdict %+v; want rolled back on a fail verdict", got.Status, got.Reason, got.Verdict)
	}
	ev := decodeEvidence(t, *got.Verdict)
	t.Logf("verdict: %s", got.Verdict.Reason)
	if ev.Endpoint != "prometheus:app" || got.Verdict.Rule != "error_ratio" || !strings.Contains(got.Reason, "prometheus counts app") {
		t.Errorf("verdict %s on %q: %s; want the error test on the prometheus counts of app", got.Verdict.Rule, ev.Endpoint, got.Reason)
	}
	if ev.Canary.Requests == 0 || ev.Canary.Errors == 0 || ev.Baseline.Requests == 0 {
		t.Errorf("evidence %+v: want the counts Prometheus read for both revisions", ev)
	}
	assertServes(t, listen, "v1")
}

// writeTargets writes the service's instances as scrape targets labelled with their revision;
// it reports whether both revisions have one.
func writeTargets(t *testing.T, h *harness, dir, run string) bool {
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil {
		return false
	}
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	byRev := map[int]*group{}
	for _, in := range svc.Instances {
		if in.Addr == "" {
			continue
		}
		g := byRev[in.Revision]
		if g == nil {
			g = &group{Labels: map[string]string{"cutover_test_run": run, "revision": fmt.Sprint(in.Revision)}}
			byRev[in.Revision] = g
		}
		g.Targets = append(g.Targets, in.Addr)
	}
	var groups []*group
	for _, g := range byRev {
		groups = append(groups, g)
	}
	b, _ := json.Marshal(groups)
	file := filepath.Join(dir, run+".json")
	if err := os.WriteFile(file+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	return byRev[1] != nil && byRev[2] != nil
}

// promCount runs an instant query that returns one number; -1 when it does not.
func promCount(t *testing.T, base, query string) float64 {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) != 1 {
		return -1
	}
	var v float64
	s, _ := r.Data.Result[0].Value[1].(string)
	fmt.Sscan(s, &v)
	return v
}
