package daemon

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
)

// rampSteps is the evidence-paced canary of the ramp tests: 10%, then doubled by evidence up
// to 40% (margin 2, at least 100 canary requests and at most 20,000 at each share), then 100%.
// (The 5% start and 100 req/s of the figures take minutes: bench/engine measures them;
// this test starts at 10% under 300 req/s so that the suite stays short.)
const rampSteps = "canary:\n  steps:\n    - weight: 10\n    - ramp: {max: 40, margin: 2, min_requests: 100, max_requests: 20000}\n    - weight: 100\n"

// rampRate is the request rate through the proxy during the ramp tests.
const rampRate = 300

// watchRamp records the distinct shares a deployment's ramp phase reports until stop, and
// logs when each began.
func watchRamp(t *testing.T, h *harness, id int64) (stop func() []int) {
	t.Helper()
	re := regexp.MustCompile(`^ramp (\d+)%`)
	var mu sync.Mutex
	var shares []int
	start, told := time.Now(), time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if d, err := h.client.Deployment(ctx, id); err == nil {
				if time.Since(told) > 30*time.Second {
					told = time.Now()
					t.Logf("deployment %d after %s: %s", id, time.Since(start).Round(time.Second), d.Phase)
				}
				if m := re.FindStringSubmatch(d.Phase); m != nil {
					w, _ := strconv.Atoi(m[1])
					mu.Lock()
					if n := len(shares); n == 0 || shares[n-1] != w {
						shares = append(shares, w)
						t.Logf("deployment %d: ramp at %d%% after %s", id, w, time.Since(start).Round(100*time.Millisecond))
					}
					mu.Unlock()
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return func() []int {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(shares)
	}
}

// TestCanaryRampEndToEnd: a real daemon, real demo-app processes and 300 req/s through the
// proxy. A healthy release (stable's latency, no errors) under the evidence-paced ramp is
// raised 10 → 20 → 40% as the judge's margin tests show it within margin 2 of stable
// at each share, then promoted with no failed request; a release failing 5% of its requests
// under the same ramp is rolled back by the judge. The time to 100% and the failed requests
// are logged for docs/benchmarks.md (fixed steps 5, 25, 50, 100 with 5-minute pauses take
// 15 minutes by construction).
func TestCanaryRampEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("two ramped canaries under load for minutes: skipped in -short mode")
	}
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Env: narrowLatency})
	h.wait(first.ID, 30*time.Second)
	stop := startLoadFor(t, listen, rampRate, 10*time.Minute)
	time.Sleep(500 * time.Millisecond)

	start := time.Now()
	healthy := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: narrowLatency, Strategy: rampSteps})
	shares := watchRamp(t, h, healthy.ID)
	got := h.wait(healthy.ID, 10*time.Minute)
	seen := shares()
	took := time.Since(start)
	sum := stop()
	t.Logf("healthy ramp: %s after %s through shares %v; load %s", got.Status, took.Round(time.Millisecond), seen, sum)
	if got.Status != "succeeded" {
		t.Fatalf("healthy ramp: %s %q verdict %+v; want succeeded", got.Status, got.Reason, got.Verdict)
	}
	if want := []int{10, 20, 40}; !slices.Equal(seen, want) {
		t.Errorf("ramp shares %v, want %v", seen, want)
	}
	// On a host starved of CPU a request may exceed the load generator's 5 s timeout whatever
	// its revision; an answer that is an error would be cutover's.
	if n := sum.Failed - sum.Errors["timeout"]; n != 0 || sum.ByStatus[502]+sum.ByStatus[503]+sum.ByStatus[500] != 0 {
		t.Errorf("%d failed requests (not timeouts) during a healthy ramp: %s", n, sum)
	}
	assertServes(t, listen, "v2")

	stop = startLoadFor(t, listen, rampRate, 10*time.Minute)
	time.Sleep(500 * time.Millisecond)
	start = time.Now()
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3",
		Env: map[string]string{"LATENCY": "20ms", "LATENCY_JITTER": "2ms", "ERROR_RATE": "0.05"}, Strategy: rampSteps})
	shares = watchRamp(t, h, bad.ID)
	got = h.wait(bad.ID, 5*time.Minute)
	seen = shares()
	took = time.Since(start)
	time.Sleep(300 * time.Millisecond)
	sum = stop()
	t.Logf("bad ramp: %s after %s at shares %v, %d failed requests of %d served by v3: %s", got.Status, took.Round(time.Millisecond),
		seen, sum.ByStatus[500], sum.ByVersion["v3"], got.Reason)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" || got.Verdict.Rule != string(analysis.RuleErrorRatio) {
		t.Fatalf("bad ramp: %s %q verdict %+v; want rolled back by the error test", got.Status, got.Reason, got.Verdict)
	}
	if slices.ContainsFunc(seen, func(w int) bool { return w > 10 }) {
		t.Errorf("bad ramp raised to %v before its rollback; a canary failing 5%% must not be shown within margin 2", seen)
	}
	if n := sum.ByStatus[500]; n == 0 || n > sum.ByVersion["v3"] {
		t.Errorf("500s %d, v3 requests %d: the errors should all come from the canary", n, sum.ByVersion["v3"])
	}
	assertServes(t, listen, "v2")
}
