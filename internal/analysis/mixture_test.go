package analysis

import (
	"math"
	"testing"
)

// TestMixtureLikelihood checks the closed form rho^ec/(1+(rho-1)p)^(ec+eb) against the
// binomial likelihood ratio (q/p)^ec ((1-q)/(1-p))^eb it stands for.
func TestMixtureLikelihood(t *testing.T) {
	windows := []struct {
		p      float64
		ec, eb int64
	}{{0.05, 1, 3}, {0.05, 0, 7}, {0.2, 4, 1}, {0.01, 2, 40}}
	var m mixture
	var cache shareLogs
	want := make([]float64, gridSize)
	for _, w := range windows {
		m.observe(&cache, w.p, w.ec, w.eb)
		for k, rho := range ratioGrid {
			q := rho * w.p / (rho*w.p + 1 - w.p)
			want[k] += float64(w.ec)*math.Log(q/w.p) + float64(w.eb)*math.Log((1-q)/(1-w.p))
		}
	}
	for k := range want {
		if math.Abs(m.logL[k]-want[k]) > 1e-9 {
			t.Errorf("rho %v: log likelihood ratio %v, want %v", ratioGrid[k], m.logL[k], want[k])
		}
	}
}

// TestMixtureIsSupermartingale computes the exact expected factor of one window under
// "canary no worse" (each of n events is the canary's with probability q <= p): it must be 1
// at q = p and below 1 for q < p, which is what makes the e-process valid.
func TestMixtureIsSupermartingale(t *testing.T) {
	for _, p := range []float64{0.01, 0.05, 0.5, 0.9} {
		for _, n := range []int64{1, 5, 30} {
			for _, q := range []float64{p, p / 2, 0} {
				var expect float64
				for ec := int64(0); ec <= n; ec++ {
					var m mixture
					m.observe(&shareLogs{}, p, ec, n-ec)
					expect += binomialPMF(n, ec, q) * math.Exp(m.logE())
				}
				if q == p && math.Abs(expect-1) > 1e-9 || q < p && expect >= 1 {
					t.Errorf("p %v, %d events, canary share of events %v: expected factor %v", p, n, q, expect)
				}
			}
		}
	}
}

func binomialPMF(n, k int64, q float64) float64 {
	lg := func(x int64) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	if q == 0 {
		if k == 0 {
			return 1
		}
		return 0
	}
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(q) + float64(n-k)*math.Log1p(-q))
}

func TestMixtureUninformativeWindows(t *testing.T) {
	var m mixture
	var cache shareLogs
	m.observe(&cache, 0, 0, 5)          // no canary traffic
	m.observe(&cache, 1, 5, 0)          // no baseline traffic
	m.observe(&cache, 0.3, 0, 0)        // no events
	m.observe(&cache, math.NaN(), 1, 1) // no requests at all
	if got := m.logE(); math.Abs(got) > 1e-12 {
		t.Errorf("log e-value after uninformative windows = %v, want 0", got)
	}
	var sum float64
	for _, w := range priorWeight {
		sum += w
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("prior weights sum to %v, want 1", sum)
	}
}

func TestCombined(t *testing.T) {
	for _, c := range []struct {
		ps   []part
		want float64
		rule Rule
	}{
		{[]part{{RuleErrorRatio, 1, 2}}, 2, RuleErrorRatio},
		{[]part{{RuleErrorRatio, 0.5, math.Log(4)}, {RuleLatency, 0.5, math.Log(2)}}, math.Log(3), RuleErrorRatio},
		{[]part{{RuleErrorRatio, 0.9, 0}, {RuleMaxP99, 0.1, 800}}, 800 + math.Log(0.1), RuleMaxP99},
	} {
		got, best := combined(c.ps)
		if math.Abs(got-c.want) > 1e-9 || best == nil || best.rule != c.rule {
			t.Errorf("combined(%v) = %v, %+v; want %v, %s", c.ps, got, best, c.want, c.rule)
		}
	}
	if got, best := combined(nil); !math.IsInf(got, -1) || best != nil {
		t.Errorf("combined(nil) = %v, %v; want -Inf, nil", got, best)
	}
}
