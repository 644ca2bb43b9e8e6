package analysis

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simRuns is the number of seeds for a scenario that runs n seeds normally; ANALYSIS_SIM_RUNS
// overrides it. Under the race detector (ten times slower) the scenarios that simulate a whole
// hour per seed (healthy canaries, the 2× error regression) run a sixteenth of the seeds (every
// request's latency is drawn), judged every 10 s rather than every second (see simWindow); the
// quick regressions, which stop at their first failure, keep every seed and 1 s windows.
func simRuns(t *testing.T, n int, wholeHour bool) int {
	if s := os.Getenv("ANALYSIS_SIM_RUNS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("ANALYSIS_SIM_RUNS=%q: want a positive integer", s)
		}
		return v
	}
	if raceEnabled && wholeHour {
		return n / 16
	}
	return n
}

// simWindow is the judgement interval, in seconds, of the whole-hour scenarios.
func simWindow() int {
	if raceEnabled {
		return 10
	}
	return 1
}

// The threshold method simulated next to the judge: Argo Rollouts' and Flagger's usual
// "error rate above 1% over the last minute" check, and a p99 limit of 250 ms (the bucket bound
// just above the healthy p99 as the histogram reports it, ≈ 205 ms).
var today = thresholdMethod{maxErrorRate: 0.01, maxP99: 250 * time.Millisecond}

// TestSimulation runs the benchmark scenarios of docs/benchmarks.md and checks the issue's
// targets. Run it with -v to print the table.
func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped in -short mode")
	}
	cfg := Config{}
	const alpha = DefaultAlpha
	scenarios := []scenario{
		{name: "healthy, 1% share, 0–10 restarts", shares: []float64{0.01}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, runs: simRuns(t, 400, true), window: simWindow(), restarts: 10},
		{name: "healthy, 5% share, 0–10 restarts", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, runs: simRuns(t, 400, true), window: simWindow(), restarts: 10},
		{name: "healthy, 10% share, 0–10 restarts", shares: []float64{0.10}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, runs: simRuns(t, 400, true), window: simWindow(), restarts: 10},
		{name: "healthy, 50% share, 0–10 restarts", shares: []float64{0.50}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, runs: simRuns(t, 400, true), window: simWindow(), restarts: 10},
		{name: "healthy, share 1→5→25→50%, 0–10 restarts", shares: []float64{0.01, 0.05, 0.25, 0.50}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, runs: simRuns(t, 400, true), window: simWindow(), restarts: 10},
		{name: "errors 0.1%→1%, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.01, latFactor: 1, runs: simRuns(t, 400, false), wantFail: true},
		{name: "errors 0.1%→0.9%, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.009, latFactor: 1, runs: simRuns(t, 400, false), wantFail: true},
		{name: "errors 0.1%→0.2%, 5% share, 0–10 restarts", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.002, latFactor: 1, runs: simRuns(t, 400, true), wantFail: true, window: simWindow(), restarts: 10},
		{name: "latency 2×, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 2, runs: simRuns(t, 400, false), wantFail: true},
		{name: "latency 2×, 1% share", shares: []float64{0.01}, baseErr: 0.001, canaryErr: 0.001, latFactor: 2, runs: simRuns(t, 400, false), wantFail: true},
	}
	results := make([]outcome, len(scenarios))
	for i, sc := range scenarios {
		results[i] = simulate(sc, cfg, today)
	}
	t.Log("\n" + simTable(scenarios, results))
	for i, sc := range scenarios {
		t.Logf("%s: judge failures by rule %v", sc.name, results[i].rules)
	}
	for i, sc := range scenarios {
		o := results[i]
		if sc.wantFail {
			continue
		}
		if got, bound := o.judge.fails, alpha; !withinRate(got, o.runs, bound) {
			t.Errorf("%s: false rollbacks %d of %d, want at most alpha %v (+3 SE)", sc.name, got, o.runs, bound)
		}
		// The latency tests hold a tenth of alpha: same latency must fail at most that often.
		if got, bound := o.rules[RuleLatency], alpha*2*weightLatency; !withinRate(got, o.runs, bound) {
			t.Errorf("%s: %d of %d runs failed on latency with the same latency, want at most %v (+3 SE)", sc.name, got, o.runs, bound)
		}
	}
	checks := []struct {
		scenario int
		ok       func(outcome) bool
		want     string
	}{
		{5, func(o outcome) bool { return o.judge.median < 60 }, "median time to fail under 60 s"},
		{7, func(o outcome) bool { return atLeastRate(o.judge.fails, o.runs, 0.75) }, "caught within the hour in at least 75% of runs (-3 SE)"},
		{8, func(o outcome) bool { return o.judge.fails == o.runs && o.rules[RuleLatency] >= o.runs*9/10 }, "always caught, by the latency rule"},
		{9, func(o outcome) bool { return o.judge.fails == o.runs && o.rules[RuleLatency] >= o.runs*9/10 }, "always caught, by the latency rule"},
	}
	for _, c := range checks {
		if o := results[c.scenario]; !c.ok(o) {
			t.Errorf("%s: caught %d of %d (rules %v), median %v s; want %s", scenarios[c.scenario].name, o.judge.fails, o.runs, o.rules, o.judge.median, c.want)
		}
	}
}

// withinRate reports whether n events in runs are consistent with a rate of at most p:
// n/runs <= p + 3 standard errors.
func withinRate(n, runs int, p float64) bool {
	return float64(n)/float64(runs) <= p+3*math.Sqrt(p*(1-p)/float64(runs))
}

// atLeastRate reports whether n events in runs are consistent with a rate of at least p:
// n/runs >= p - 3 standard errors (few runs under the race detector).
func atLeastRate(n, runs int, p float64) bool {
	return float64(n)/float64(runs) >= p-3*math.Sqrt(p*(1-p)/float64(runs))
}

// simTable renders the results as the Markdown table of docs/benchmarks.md.
func simTable(scs []scenario, res []outcome) string {
	var b strings.Builder
	b.WriteString("| scenario | runs | judge (alpha 0.05) | per-minute error rate > 1% | per-minute p99 > 250 ms |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for i, sc := range scs {
		o := res[i]
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", sc.name, o.runs,
			cell(o.judge, o.runs, sc.wantFail), cell(o.errors, o.runs, sc.wantFail), cell(o.p99, o.runs, sc.wantFail))
	}
	return b.String()
}

// cell renders "2.2% false rollbacks" for a healthy canary, "100% caught, median 53 s" for a
// regression.
func cell(s stat, runs int, regression bool) string {
	pct := 100 * float64(s.fails) / float64(runs)
	if !regression {
		return fmt.Sprintf("%.1f%% false rollbacks", pct)
	}
	if math.IsInf(s.median, 1) {
		return fmt.Sprintf("%.1f%% caught, median never", pct)
	}
	return fmt.Sprintf("%.1f%% caught, median %.0f s", pct, s.median)
}

// latencyScenarios are the scenarios of TestLatencySimulation for one distribution: a healthy
// canary at a 5% share for the whole hour, and a canary twice as slow at a 5% and a 1% share.
func latencyScenarios(t *testing.T, d dist) []scenario {
	return []scenario{
		{name: d.name + ", healthy, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, lat: d, runs: simRuns(t, 400, true), window: simWindow()},
		{name: d.name + ", latency 2×, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 2, lat: d, runs: simRuns(t, 400, false), wantFail: true, rule: RuleLatency},
		{name: d.name + ", latency 1.25×, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1.25, lat: d, runs: simRuns(t, 400, false), wantFail: true},
	}
}

// TestLatencySimulation runs the latency scenarios of docs/benchmarks.md for narrow, moderate,
// wide and long-tailed distributions and checks the targets: a canary twice as slow
// caught at a 5% share within 2 minutes (simulated) in every run, and false rollbacks of
// healthy canaries within alpha. Run it with -v to print the table.
func TestLatencySimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped in -short mode")
	}
	var scs []scenario
	for _, d := range []dist{distNarrow, distModerate, distWide, distLongTail} {
		scs = append(scs, latencyScenarios(t, d)...)
	}
	if raceEnabled {
		// Minutes of CPU with every request's latency drawn, ten times more under the race
		// detector: there, a bounded variant checks the 2× claim alone (each run stops at its
		// failure, within two simulated minutes), on 40 seeds per distribution.
		scs = slices.DeleteFunc(scs, func(sc scenario) bool { return sc.latFactor != 2 })
		for i := range scs {
			scs[i].runs = 40
		}
	}
	results := make([]outcome, len(scs))
	for i, sc := range scs {
		results[i] = simulate(sc, Config{}, today)
	}
	t.Log("\n" + latencyTable(scs, results))
	if raceEnabled {
		checkLatencyTargets(t, scs, results)
		return
	}
	limits, limitResults := simulateMaxP99(t)
	t.Log("\nmax_p99 at 1.2× the healthy p99, latency: false\n" + latencyTable(limits, limitResults))
	checkLatencyTargets(t, append(scs, limits...), append(results, limitResults...))
}

// checkLatencyTargets checks the targets on the latency scenarios' outcomes.
func checkLatencyTargets(t *testing.T, scs []scenario, results []outcome) {
	t.Helper()
	for i, sc := range scs {
		o := results[i]
		if !sc.wantFail {
			if !withinRate(o.judge.fails, o.runs, DefaultAlpha) {
				t.Errorf("%s: false rollbacks %d of %d, want at most alpha (+3 SE)", sc.name, o.judge.fails, o.runs)
			}
			continue
		}
		// A few runs meet a false alarm of the error test before the latency evidence is in.
		// max_p99 judges the canary's own requests alone (5 a second here), so it gets the hour.
		within := map[Rule]float64{RuleLatency: 120, RuleMaxP99: simDuration}[sc.rule]
		if sc.latFactor == 2 && (o.judge.fails != o.runs || o.judge.max > within || o.rules[sc.rule] < o.runs*95/100) {
			t.Errorf("%s: caught %d of %d (rules %v), slowest at %v s; want every run caught within %v s, 95%% of them by %s",
				sc.name, o.judge.fails, o.runs, o.rules, o.judge.max, within, sc.rule)
		}
	}
}

// simulateMaxP99 runs, for each distribution, a canary with max_p99 set at 1.2× the healthy
// p99 (and the latency tests off): healthy for the hour, and twice as slow.
func simulateMaxP99(t *testing.T) ([]scenario, []outcome) {
	var scs []scenario
	var res []outcome
	for _, d := range []dist{distNarrow, distModerate, distWide, distLongTail} {
		p99 := time.Duration(1.2 * float64(d.median) * math.Exp(2.326*d.sigma))
		cfg := Config{MaxP99: p99, SkipLatency: true}
		name := fmt.Sprintf("%s, max_p99 %v", d.name, p99.Round(100*time.Microsecond))
		for _, sc := range []scenario{
			{name: name + ", healthy, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 1, lat: d, runs: simRuns(t, 400, true), window: simWindow()},
			{name: name + ", latency 2×, 5% share", shares: []float64{0.05}, baseErr: 0.001, canaryErr: 0.001, latFactor: 2, lat: d, runs: simRuns(t, 400, false), wantFail: true, rule: RuleMaxP99},
		} {
			scs, res = append(scs, sc), append(res, simulate(sc, cfg, today))
		}
	}
	return scs, res
}

// latencyTable renders the latency scenarios as the Markdown table of docs/benchmarks.md.
func latencyTable(scs []scenario, res []outcome) string {
	var b strings.Builder
	b.WriteString("| scenario | runs | judge (alpha 0.05) | time to fail: median / p90 / max | failures by rule |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for i, sc := range scs {
		o := res[i]
		times := "-"
		if sc.wantFail {
			times = fmt.Sprintf("%s / %s / %s", secs(o.judge.median), secs(o.judge.p90), secs(o.judge.max))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", sc.name, o.runs, cell(o.judge, o.runs, sc.wantFail), times, rules(o.rules))
	}
	return b.String()
}

// rules renders failures by rule, "latency 400, error_ratio 2", or "-".
func rules(m map[Rule]int) string {
	var parts []string
	for _, r := range []Rule{RuleLatency, RuleMaxP99, RuleErrorRatio} {
		if m[r] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, m[r]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// secs renders a time to fail, "never" when the runs did not fail.
func secs(s float64) string {
	if math.IsInf(s, 1) {
		return "never"
	}
	return fmt.Sprintf("%.0f s", s)
}
