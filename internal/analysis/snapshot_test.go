package analysis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// roundTrip stores j's snapshot as JSON and resumes a judge from it.
func roundTrip(t *testing.T, cfg Config, j *Judge) *Judge {
	t.Helper()
	b, err := json.Marshal(j.Snapshot())
	if err != nil {
		t.Fatalf("marshal snapshot: %v", err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("unmarshal snapshot: %v", err)
	}
	r, err := Resume(cfg, s)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	return r
}

// TestResumeContinuesTheJudgement: a judge stored and resumed mid-analysis, fed the same
// windows as one that ran throughout, ends with the same e-values and counts; only the
// resumption is counted.
func TestResumeContinuesTheJudgement(t *testing.T) {
	healthy := withLatency(window(50, 0, 950, 1), sameWindow, baseWindow)
	slow := withLatency(window(50, 1, 950, 1), slowWindow, baseWindow)
	for _, tc := range []struct {
		name string
		cfg  Config
		ws   []Sample
	}{
		{"healthy, latency and max_p99", Config{LatencyBurnIn: 500, MaxP99: 200 * time.Millisecond}, repeat(12, healthy)},
		{"slower canary", Config{LatencyBurnIn: 500}, append(repeat(4, healthy), repeat(8, slow)...)},
		{"errors only", Config{SkipLatency: true}, repeat(12, window(50, 1, 950, 2))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := windows(tc.ws...)
			whole, _ := New(tc.cfg)
			for _, s := range samples {
				whole.Observe(s)
			}
			cut := len(samples) / 2
			j, _ := New(tc.cfg)
			for _, s := range samples[:cut] {
				j.Observe(s)
			}
			j = roundTrip(t, tc.cfg, j)
			// The resumed judge takes its first sample as a starting point: give it the
			// reading it was stored at, as a restarted daemon's first look would be.
			for _, s := range samples[cut-1:] {
				j.Observe(s)
			}
			j = roundTrip(t, tc.cfg, j) // a resumed judge that has seen nothing new says the same
			got, want := j.Verdict(), whole.Verdict()
			if n := j.Snapshot().Resumes; n != 2 {
				t.Errorf("resumes %d, want 2", n)
			}
			if got.Outcome != Fail {
				got.Evidence.Resumes = 0 // a failure keeps the evidence it failed on
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("resumed verdict differs (-resumed +whole):\n%s", diff)
			}
		})
	}
}

// TestResumeKeepsAFailure: a failure stands across a resumption, with its evidence.
func TestResumeKeepsAFailure(t *testing.T) {
	cfg := Config{SkipLatency: true}
	j, _ := New(cfg)
	for _, s := range windows(repeat(3, window(50, 5, 950, 1))...) {
		j.Observe(s)
	}
	want := j.Verdict()
	r := roundTrip(t, cfg, j)
	r.Observe(Sample{Canary: Counts{Requests: 10}, Baseline: Counts{Requests: 10}})
	if got := r.Verdict(); got.Outcome != Fail || !cmp.Equal(got, want) {
		t.Errorf("resumed verdict %+v, want the stored failure %+v", got, want)
	}
}

// TestResumeRefusesMismatch: a snapshot that does not fit the configuration is refused with
// what is wrong, never half-loaded.
func TestResumeRefusesMismatch(t *testing.T) {
	j, _ := New(Config{})
	good := j.Snapshot()
	for _, tc := range []struct {
		name  string
		cfg   Config
		edit  func(*Snapshot)
		words string
	}{
		{"grid", Config{}, func(s *Snapshot) { s.Errors = s.Errors[:3] }, "grid values"},
		{"latency tests", Config{}, func(s *Snapshot) { s.Latency = nil }, "latency tests"},
		{"threshold", Config{}, func(s *Snapshot) { s.Latency[0].Base = 1 << 20 }, "out of range"},
		{"histogram", Config{}, func(s *Snapshot) { s.CanaryHist = []int64{1 << 20, 5} }, "canary histogram"},
		{"odd pairs", Config{}, func(s *Snapshot) { s.BaselineHist = []int64{1} }, "odd"},
		{"counts", Config{}, func(s *Snapshot) { s.Canary = [2]int64{1, 2} }, "counts"},
		{"max_p99 missing", Config{MaxP99: time.Second}, func(s *Snapshot) {}, "max_p99"},
		{"config", Config{Alpha: 2}, func(s *Snapshot) {}, "alpha"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(good)
			var s Snapshot
			_ = json.Unmarshal(b, &s)
			tc.edit(&s)
			_, err := Resume(tc.cfg, s)
			if err == nil || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("Resume: %v; want an error about %q", err, tc.words)
			}
		})
	}
}
