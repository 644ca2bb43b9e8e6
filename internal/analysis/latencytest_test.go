package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/latency"
)

// narrowWindows returns n one-second windows of 100 requests at a 5% canary share: both
// revisions log-normal with a p99/p50 of 1.05 around their medians, as in the incident that
// the judge once missed (stable 21 ms, canary 41 ms).
func narrowWindows(seed uint64, n int, base, canary time.Duration) []Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	d := dist{median: base, sigma: distNarrow.sigma}
	s := Sample{Canary: Counts{Latency: make([]int64, latency.Buckets)}, Baseline: Counts{Latency: make([]int64, latency.Buckets)}}
	out := []Sample{cloneSample(s)}
	for range n {
		nc := binomial(r, 100, 0.05)
		addRequests(r, &s.Canary, nc, 0, d, float64(canary)/float64(base))
		addRequests(r, &s.Baseline, 100-nc, 0, d, 1)
		out = append(out, cloneSample(s))
	}
	return out
}

func cloneSample(s Sample) Sample {
	s.Canary.Latency = append([]int64(nil), s.Canary.Latency...)
	s.Baseline.Latency = append([]int64(nil), s.Baseline.Latency...)
	return s
}

func judge(t *testing.T, cfg Config, samples []Sample) Verdict {
	t.Helper()
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		j.Observe(s)
	}
	return j.Verdict()
}

// TestNarrowLatencyDoubled: the incident. A canary at 41 ms against a stable at 21 ms with
// p99 22 ms fails on latency within two minutes at 100 req/s and a 5% share, and the reason
// names the quantiles compared.
func TestNarrowLatencyDoubled(t *testing.T) {
	for seed := range uint64(5) {
		v := judge(t, Config{}, narrowWindows(seed, 120, 21*time.Millisecond, 41*time.Millisecond))
		if v.Outcome != Fail || v.Rule != RuleLatency {
			t.Fatalf("seed %d: verdict %s %s: %s; want fail on latency", seed, v.Outcome, v.Rule, v.Reason)
		}
		if !strings.Contains(v.Reason, "at p50") || !strings.Contains(v.Reason, "at p95") {
			t.Errorf("seed %d: reason %q does not name the quantiles", seed, v.Reason)
		}
		if got := v.Evidence.Canary.P50; got < 40*time.Millisecond || got > 42*time.Millisecond {
			t.Errorf("seed %d: canary p50 %v, want 41 ms to within the histogram's resolution", seed, got)
		}
	}
}

// TestLatencyTolerance: a canary 3% slower than a narrow baseline is within the default
// tolerance of 5% and is not failed; with no tolerance the same data fail it.
func TestLatencyTolerance(t *testing.T) {
	samples := narrowWindows(7, 600, 21*time.Millisecond, 21630*time.Microsecond)
	if v := judge(t, Config{}, samples); v.Outcome == Fail {
		t.Errorf("default tolerance: %s %s: %s; want no failure for 3%% slower", v.Outcome, v.Rule, v.Reason)
	}
	zero := 0.0
	if v := judge(t, Config{LatencyTolerance: &zero}, samples); v.Outcome != Fail || v.Rule != RuleLatency {
		t.Errorf("tolerance 0: %s %s: %s; want fail on latency", v.Outcome, v.Rule, v.Reason)
	}
}

// TestMaxP99Sequential: max_p99 fails a canary whose p99 is above the limit by the
// sequential test, and never one whose p99 is below it, whatever the baseline.
func TestMaxP99Sequential(t *testing.T) {
	samples := narrowWindows(3, 600, 21*time.Millisecond, 21*time.Millisecond) // canary p99 ≈ 22 ms
	for _, tt := range []struct {
		limit time.Duration
		fail  bool
	}{{23 * time.Millisecond, false}, {21 * time.Millisecond, true}} {
		v := judge(t, Config{MaxP99: tt.limit, SkipLatency: true, SkipErrors: true}, samples)
		if got := v.Outcome == Fail; got != tt.fail || (got && v.Rule != RuleMaxP99) {
			t.Errorf("max_p99 %v: %s %s: %s; want fail %v", tt.limit, v.Outcome, v.Rule, v.Reason, tt.fail)
		}
		if l := v.Evidence.MaxP99; l == nil || l.Limit != tt.limit || l.Bound < tt.limit || l.Requests == 0 {
			t.Errorf("max_p99 %v: evidence %+v", tt.limit, l)
		}
	}
}
