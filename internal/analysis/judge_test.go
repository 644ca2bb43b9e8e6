package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/latency"
)

// hist returns a histogram of the default bounds with the given counts per latency.
func hist(counts map[time.Duration]int64) []int64 {
	h := make([]int64, len(DefaultLatencyBounds)+1)
	for d, c := range counts {
		h[latency.Index(int64(d))] += c
	}
	return h
}

// Per-window histograms: the baseline with 5% of requests above 30 ms and 1% above 100 ms,
// the canary the same, or twice as slow.
var (
	baseWindow = hist(map[time.Duration]int64{30 * time.Millisecond: 900, 70 * time.Millisecond: 40, 150 * time.Millisecond: 10})
	sameWindow = hist(map[time.Duration]int64{30 * time.Millisecond: 47, 70 * time.Millisecond: 3})
	slowWindow = hist(map[time.Duration]int64{70 * time.Millisecond: 30, 150 * time.Millisecond: 20})
)

// windows turns per-window counts into the cumulative samples the controller would read,
// starting with an all-zero sample.
func windows(ws ...Sample) []Sample {
	acc := Sample{Canary: Counts{Latency: hist(nil)}, Baseline: Counts{Latency: hist(nil)}}
	out := []Sample{acc}
	for _, w := range ws {
		next := Sample{
			Canary:   Counts{Requests: acc.Canary.Requests + w.Canary.Requests, Errors: acc.Canary.Errors + w.Canary.Errors},
			Baseline: Counts{Requests: acc.Baseline.Requests + w.Baseline.Requests, Errors: acc.Baseline.Errors + w.Baseline.Errors},
		}
		next.Canary.Latency = addInto(append([]int64(nil), acc.Canary.Latency...), w.Canary.Latency)
		next.Baseline.Latency = addInto(append([]int64(nil), acc.Baseline.Latency...), w.Baseline.Latency)
		out, acc = append(out, next), next
	}
	return out
}

// window is one window's counts; histograms default to 50 canary and 950 baseline requests.
func window(cReq, cErr, bReq, bErr int64) Sample {
	return Sample{Canary: Counts{Requests: cReq, Errors: cErr}, Baseline: Counts{Requests: bReq, Errors: bErr}}
}

func withLatency(s Sample, c, b []int64) Sample {
	s.Canary.Latency, s.Baseline.Latency = c, b
	return s
}

func repeat(n int, s Sample) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// summaryOf is the part of a verdict the table compares.
type summaryOf struct {
	Outcome                  Outcome
	Rule                     Rule
	Windows, Resets          int
	CanaryReq, CanaryErr     int64
	BaselineReq, BaselineErr int64
	// MedianSlow and TailSlow are the latency tests' slow requests, canary's then baseline's.
	MedianSlow, TailSlow [2]int64
	FinalOutcome         Outcome
	FinalRule            Rule
}

func summarise(v, final Verdict) summaryOf {
	e := v.Evidence
	var med, tail [2]int64
	if len(e.Latency) == 2 {
		med = [2]int64{e.Latency[0].CanarySlow, e.Latency[0].BaselineSlow}
		tail = [2]int64{e.Latency[1].CanarySlow, e.Latency[1].BaselineSlow}
	}
	return summaryOf{v.Outcome, v.Rule, e.Windows, e.Resets, e.Canary.Requests, e.Canary.Errors,
		e.Baseline.Requests, e.Baseline.Errors, med, tail, final.Outcome, final.Rule}
}

func TestJudgeVerdicts(t *testing.T) {
	healthy := withLatency(window(50, 0, 950, 1), sameWindow, baseWindow)
	tests := []struct {
		name    string
		cfg     Config
		samples []Sample
		want    summaryOf
	}{
		{name: "no samples", want: summaryOf{Outcome: Inconclusive, FinalOutcome: Inconclusive, FinalRule: RuleMinRequests}},
		{name: "no traffic", samples: windows(repeat(5, window(0, 0, 0, 0))...),
			want: summaryOf{Outcome: Inconclusive, Windows: 5, FinalOutcome: Inconclusive, FinalRule: RuleMinRequests}},
		{name: "healthy canary passes at the end", cfg: Config{SkipLatency: true}, samples: windows(repeat(4, window(50, 0, 950, 1))...),
			want: summaryOf{Outcome: Inconclusive, Windows: 4, CanaryReq: 200, BaselineReq: 3800, BaselineErr: 4,
				FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "target reached passes at once", cfg: Config{TargetRequests: 150, LatencyBurnIn: 100}, samples: windows(repeat(4, healthy)...),
			want: summaryOf{Outcome: Pass, Rule: RuleTarget, Windows: 4, CanaryReq: 200, BaselineReq: 3800, BaselineErr: 4,
				MedianSlow: [2]int64{9, 150}, TailSlow: [2]int64{0, 30}, FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "target waits for the latency burn-in", cfg: Config{TargetRequests: 150, LatencyBurnIn: 10000}, samples: windows(repeat(4, healthy)...),
			want: summaryOf{Outcome: Inconclusive, Windows: 4, CanaryReq: 200, BaselineReq: 3800, BaselineErr: 4,
				FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "tenfold errors fail", samples: windows(repeat(3, window(50, 5, 950, 1))...),
			want: summaryOf{Outcome: Fail, Rule: RuleErrorRatio, Windows: 1, CanaryReq: 50, CanaryErr: 5, BaselineReq: 950, BaselineErr: 1,
				FinalOutcome: Fail, FinalRule: RuleErrorRatio}},
		{name: "zero baseline errors", samples: windows(window(50, 3, 950, 0), window(50, 2, 950, 0)),
			want: summaryOf{Outcome: Fail, Rule: RuleErrorRatio, Windows: 1, CanaryReq: 50, CanaryErr: 3, BaselineReq: 950,
				FinalOutcome: Fail, FinalRule: RuleErrorRatio}},
		{name: "share 0: nothing to judge", samples: windows(repeat(3, window(0, 0, 1000, 5))...),
			want: summaryOf{Outcome: Inconclusive, Windows: 3, BaselineReq: 3000, BaselineErr: 15, FinalOutcome: Inconclusive, FinalRule: RuleMinRequests}},
		{name: "share 1: errors alone prove nothing", samples: windows(repeat(3, window(1000, 50, 0, 0))...),
			want: summaryOf{Outcome: Inconclusive, Windows: 3, CanaryReq: 3000, CanaryErr: 150, FinalOutcome: Inconclusive, FinalRule: RuleNoBaseline}},
		{name: "share 1 with max_error_rate", cfg: Config{MaxErrorRate: ptr(0.01)}, samples: windows(repeat(3, window(1000, 50, 0, 0))...),
			want: summaryOf{Outcome: Fail, Rule: RuleMaxErrorRate, Windows: 1, CanaryReq: 1000, CanaryErr: 50, FinalOutcome: Fail, FinalRule: RuleMaxErrorRate}},
		{name: "max_error_rate waits for min_requests", cfg: Config{MaxErrorRate: ptr(0.0), MinRequests: 200, SkipLatency: true},
			samples: windows(window(100, 1, 0, 0), window(100, 0, 0, 0)),
			want:    summaryOf{Outcome: Fail, Rule: RuleMaxErrorRate, Windows: 2, CanaryReq: 200, CanaryErr: 1, FinalOutcome: Fail, FinalRule: RuleMaxErrorRate}},
		{name: "max_p99", cfg: Config{MaxP99: 100 * time.Millisecond, SkipLatency: true},
			samples: windows(repeat(3, withLatency(window(50, 0, 950, 1), slowWindow, baseWindow))...),
			want: summaryOf{Outcome: Fail, Rule: RuleMaxP99, Windows: 1, CanaryReq: 50, BaselineReq: 950, BaselineErr: 1,
				FinalOutcome: Fail, FinalRule: RuleMaxP99}},
		{name: "max_p99 met", cfg: Config{MaxP99: 100 * time.Millisecond, SkipLatency: true},
			samples: windows(repeat(50, withLatency(window(50, 0, 950, 1), sameWindow, baseWindow))...),
			want: summaryOf{Outcome: Inconclusive, Windows: 50, CanaryReq: 2500, BaselineReq: 47500, BaselineErr: 50,
				FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "twice as slow fails on latency after burn-in", cfg: Config{LatencyBurnIn: 500},
			samples: windows(repeat(3, withLatency(window(50, 0, 950, 1), slowWindow, baseWindow))...),
			want: summaryOf{Outcome: Fail, Rule: RuleLatency, Windows: 2, CanaryReq: 100, BaselineReq: 1900, BaselineErr: 2,
				MedianSlow: [2]int64{50, 50}, TailSlow: [2]int64{20, 10}, FinalOutcome: Fail, FinalRule: RuleLatency}},
		{name: "same latency does not fail", cfg: Config{LatencyBurnIn: 500}, samples: windows(repeat(20, healthy)...),
			want: summaryOf{Outcome: Inconclusive, Windows: 20, CanaryReq: 1000, BaselineReq: 19000, BaselineErr: 20,
				MedianSlow: [2]int64{57, 950}, TailSlow: [2]int64{0, 190}, FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "histograms of the wrong length are ignored", cfg: Config{MaxP99: time.Millisecond},
			samples: []Sample{
				{Canary: Counts{Latency: []int64{0, 0}}, Baseline: Counts{Latency: []int64{0, 0}}},
				{Canary: Counts{Requests: 100, Latency: []int64{0, 100}}, Baseline: Counts{Requests: 900, Latency: []int64{0, 900}}},
				{Canary: Counts{Requests: 200, Latency: []int64{0, 200}}, Baseline: Counts{Requests: 1800, Latency: []int64{0, 1800}}},
			},
			want: summaryOf{Outcome: Inconclusive, Windows: 2, CanaryReq: 200, BaselineReq: 1800, FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "a failure stands", cfg: Config{SkipLatency: true},
			samples: windows(append(repeat(1, window(50, 5, 950, 1)), repeat(50, window(50, 0, 950, 1))...)...),
			want: summaryOf{Outcome: Fail, Rule: RuleErrorRatio, Windows: 1, CanaryReq: 50, CanaryErr: 5, BaselineReq: 950, BaselineErr: 1,
				FinalOutcome: Fail, FinalRule: RuleErrorRatio}},
		{name: "more errors than requests in a window are capped", cfg: Config{SkipLatency: true},
			samples: windows(window(0, 3, 100, 0), window(100, 0, 100, 0)),
			want:    summaryOf{Outcome: Inconclusive, Windows: 2, CanaryReq: 100, BaselineReq: 200, FinalOutcome: Pass, FinalRule: RuleMinRequests}},
		{name: "counters going backwards restart the count", cfg: Config{SkipLatency: true},
			samples: []Sample{
				{Canary: Counts{Requests: 500, Errors: 1}, Baseline: Counts{Requests: 9000, Errors: 9}},
				{Canary: Counts{Requests: 600, Errors: 1}, Baseline: Counts{Requests: 10000, Errors: 10}},
				{Canary: Counts{Requests: 10, Errors: 0}, Baseline: Counts{Requests: 100, Errors: 0}}, // restart
				{Canary: Counts{Requests: 60, Errors: 0}, Baseline: Counts{Requests: 1000, Errors: 1}},
				{Canary: Counts{Requests: 60, Errors: 0}, Baseline: Counts{Requests: 999, Errors: 1}}, // one counter back
			},
			want: summaryOf{Outcome: Inconclusive, Windows: 2, Resets: 2, CanaryReq: 150, CanaryErr: 0, BaselineReq: 1900, BaselineErr: 2,
				FinalOutcome: Pass, FinalRule: RuleMinRequests}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			for _, s := range tt.samples {
				j.Observe(s)
			}
			v, final := j.Verdict(), j.Final()
			if diff := cmp.Diff(summarise(v, final), tt.want); diff != "" {
				t.Errorf("verdict (-got +want):\n%s\nreason: %s\nfinal: %s", diff, v.Reason, final.Reason)
			}
			if v.Reason == "" || final.Reason == "" {
				t.Errorf("empty reason: %q, final %q", v.Reason, final.Reason)
			}
			if v.Evidence.Threshold != 1/j.cfg.Alpha {
				t.Errorf("threshold %v, want %v", v.Evidence.Threshold, 1/j.cfg.Alpha)
			}
			if (v.Rule == RuleErrorRatio || v.Rule == RuleLatency) && v.Evidence.EValue < v.Evidence.Threshold {
				t.Errorf("failed on %s with e-value %v below the threshold %v", v.Rule, v.Evidence.EValue, v.Evidence.Threshold)
			}
		})
	}
}

func TestJudgeEvidenceFigures(t *testing.T) {
	j, err := New(Config{SkipLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range windows(window(1000, 4, 9000, 9), window(1000, 0, 9000, 9)) {
		j.Observe(s)
	}
	ev := j.Verdict().Evidence
	if got, want := ev.Canary.ErrorRate, 0.002; got != want {
		t.Errorf("canary error rate %v, want %v", got, want)
	}
	if got, want := ev.Baseline.ErrorRate, 0.001; got != want {
		t.Errorf("baseline error rate %v, want %v", got, want)
	}
	r := ev.ErrorRatio
	if r == nil || math.Abs(r.Estimate-2) > 1e-9 || !(r.Low < 1 && r.High > 3 && r.High < 10) || r.Level != 0.95 {
		t.Errorf("error ratio %+v, want estimate 2 with a 95%% interval around it", r)
	}
	if ev.ErrorEValue <= 0 || ev.EValue != ev.ErrorEValue || math.Abs(ev.LatencyEValue-1) > 1e-12 {
		t.Errorf("e-values: error %v, latency %v, combined %v; want the combined one to be the error one", ev.ErrorEValue, ev.LatencyEValue, ev.EValue)
	}
}

// addInto adds the counts of d to acc, growing acc to d's length.
func addInto(acc, d []int64) []int64 {
	if len(acc) < len(d) {
		acc = append(acc, make([]int64, len(d)-len(acc))...)
	}
	for i, c := range d {
		acc[i] += c
	}
	return acc
}
