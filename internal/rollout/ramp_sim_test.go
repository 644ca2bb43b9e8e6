package rollout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// rampResult is one simulated deployment: when it reached 100% or rolled back (seconds; -1:
// never within the hour) and the failed requests the canary served until then.
type rampResult struct {
	promotedAt, rolledBackAt int
	canaryErrors             int64
}

// schedule gives the canary's share at second t from the judge's verdict: it returns the
// weight (100: promoted). It may start the judge's margin tests, as the controller does.
type schedule func(t int, v analysis.Verdict, j *analysis.Judge) int

// fixedSteps is weight 5, 25, 50 with a pause of pause seconds each, then 100.
func fixedSteps(pause int) schedule {
	return func(t int, _ analysis.Verdict, _ *analysis.Judge) int {
		return []int{5, 25, 50, 100}[min(t/pause, 3)]
	}
}

// ramped is a weight step at from, a ramp step r, then 100, decided by rampNext as the
// controller does.
func ramped(from int, r spec.RampStep) schedule {
	w := from
	return func(_ int, v analysis.Verdict, j *analysis.Judge) int {
		if w == 100 {
			return w
		}
		m := rampNext(r, w, v.Evidence)
		if m.start {
			_ = j.StartMargin(r.Margin)
		}
		switch {
		case m.done:
			w = 100
		case m.weight > w:
			w = m.weight
		}
		return w
	}
}

// simulateRamp runs one hour at 100 req/s (errors only: baseline 0.1%, canary canaryErr)
// under a schedule, judged every second.
func simulateRamp(sched schedule, canaryErr float64, seed uint64) rampResult {
	r := rand.New(rand.NewPCG(seed, 0x7a3b))
	j, err := analysis.New(analysis.Config{SkipLatency: true})
	if err != nil {
		panic(err)
	}
	var s analysis.Sample
	j.Observe(s)
	res := rampResult{promotedAt: -1, rolledBackAt: -1}
	w := sched(0, j.Verdict(), j)
	for t := 1; t <= 3600; t++ {
		for range 100 {
			c := &s.Baseline
			rate := 0.001
			if r.IntN(100) < w {
				c, rate = &s.Canary, canaryErr
			}
			c.Requests++
			if r.Float64() < rate {
				c.Errors++
			}
		}
		res.canaryErrors = s.Canary.Errors
		j.Observe(s)
		v := j.Verdict()
		if v.Outcome == analysis.Fail {
			res.rolledBackAt = t
			return res
		}
		if w = sched(t, v, j); w == 100 {
			res.promotedAt = t
			return res
		}
	}
	return res
}

// TestRampSimulation compares the evidence-paced ramp with fixed steps 5, 25, 50, 100 and
// 5-minute pauses: time to 100% for a healthy release, what a bad one serves before its
// rollback, and how often each promotes a bad release before catching it. Run it with -v
// for the table of docs/benchmarks.md.
func TestRampSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped in -short mode")
	}
	const runs = 100
	ramp := spec.RampStep{Max: 50, Factor: 2, Margin: 2, MinRequests: 200}
	wide := ramp
	wide.Margin = 4
	policies := []struct {
		name string
		make func() schedule
	}{
		{"fixed 5, 25, 50, 100 (5 min pauses)", func() schedule { return fixedSteps(300) }},
		{"ramp 5→50 (×2, margin 2, 200 requests), then 100", func() schedule { return ramped(5, ramp) }},
		{"ramp 5→50 (×2, margin 4, 200 requests), then 100", func() schedule { return ramped(5, wide) }},
	}
	var b strings.Builder
	b.WriteString("| policy | canary errors | runs | promoted (median time) | rolled back (median time) | failed requests served before rollback (median / max) |\n|---|---|---|---|---|---|\n")
	got := map[string][3]float64{}
	for _, p := range policies {
		for _, rate := range []float64{0.001, 0.002, 0.01} {
			var prom, back []int
			var served []int64
			for seed := uint64(1); seed <= runs; seed++ {
				res := simulateRamp(p.make(), rate, seed)
				if res.promotedAt >= 0 {
					prom = append(prom, res.promotedAt)
				}
				if res.rolledBackAt >= 0 {
					back = append(back, res.rolledBackAt)
					served = append(served, res.canaryErrors)
				}
			}
			fmt.Fprintf(&b, "| %s | %.1f%% | %d | %d (%s) | %d (%s) | %s |\n", p.name, 100*rate, runs,
				len(prom), medianSecs(prom), len(back), medianSecs(back), medianMax(served))
			got[fmt.Sprint(p.name, rate)] = [3]float64{float64(len(prom)), float64(median(prom)), float64(len(back))}
		}
	}
	t.Log("\n" + b.String())
	fixedHealthy := got[fmt.Sprint(policies[0].name, 0.001)]
	if fixedHealthy[1] != 900 {
		t.Errorf("fixed steps promote at %v s, want 900", fixedHealthy[1])
	}
	for _, p := range policies[1:] {
		if h := got[fmt.Sprint(p.name, 0.001)]; h[2] > runs*0.05+3*2.2 {
			t.Errorf("%s, healthy: %v of %d rolled back; want false rollbacks within alpha", p.name, h[2], runs)
		}
		if bad := got[fmt.Sprint(p.name, 0.01)]; bad[2] < runs*0.95 {
			t.Errorf("%s, 10× errors: %v of %d rolled back; want nearly all", p.name, bad[2], runs)
		}
		// A release twice as bad is promoted less often than by the fixed steps: the ramp
		// waits for evidence that they never ask for.
		if sub, fixed := got[fmt.Sprint(p.name, 0.002)], got[fmt.Sprint(policies[0].name, 0.002)]; sub[0] > fixed[0] {
			t.Errorf("%s promoted %v releases with 2× errors, fixed steps %v; want no more", p.name, sub[0], fixed[0])
		}
	}
}

func median(xs []int) int {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func medianSecs(xs []int) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%d s", median(xs))
}

func medianMax(xs []int64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%d / %d", s[(len(s)-1)/2], s[len(s)-1])
}
