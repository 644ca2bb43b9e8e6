package analysis

import "math"

// ratioGrid is the mixture's support: alternative rate ratios rho (canary rate / baseline rate).
// priorWeight is the prior mass of each (normalised to sum to 1). The mass sits in two lumps,
// around 2× and around 10×: a twofold regression needs hundreds of errors and gains from
// weight near 2, a tenfold one must be caught within its first three or four canary errors and
// gains from weight near 10. A spread over 1.25× to 50× keeps other sizes covered. The figures
// behind this choice are in docs/benchmarks.md.
var (
	ratioGrid   = [gridSize]float64{1.25, 1.6, 2, 2.5, 4, 7, 10, 14, 25, 50}
	priorWeight = normalise([gridSize]float64{0.3, 1, 2, 1.3, 0.7, 1.5, 3, 1.6, 0.6, 0.2})
	logRatio    = func() (l [gridSize]float64) {
		for k, rho := range ratioGrid {
			l[k] = math.Log(rho)
		}
		return l
	}()
)

// normalise scales w to sum to 1.
func normalise(w [gridSize]float64) [gridSize]float64 {
	var sum float64
	for _, x := range w {
		sum += x
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

const gridSize = 10

// shareLogs caches log(1+(rho-1)p) over the grid for the last share p seen.
type shareLogs struct {
	p    float64
	logs [gridSize]float64
}

// at returns log(1+(rho_k-1)p) for every grid point.
func (s *shareLogs) at(p float64) *[gridSize]float64 {
	if p != s.p {
		s.p = p
		for k, rho := range ratioGrid {
			s.logs[k] = math.Log1p((rho - 1) * p)
		}
	}
	return &s.logs
}

// mixture is an e-process for "canary events are no more frequent than baseline events,
// per request". It keeps, per grid point, the log of the product of the window likelihood
// ratios rho^e_c / (1+(rho-1)p)^(e_c+e_b), and reports the prior-weighted average.
type mixture struct {
	logL   [gridSize]float64 // one per ratioGrid entry
	cached float64           // logE's value, valid when fresh
	fresh  bool
}

// observe folds in one window: p is the canary's share of the window's requests, ec and eb the
// events (errors, or slow requests) of canary and baseline. A window whose share is 0 or 1, or
// that has no events, carries no information about the split and leaves the test unchanged.
func (m *mixture) observe(cache *shareLogs, p float64, ec, eb int64) {
	if !(p > 0 && p < 1) || ec+eb <= 0 {
		return
	}
	m.fresh = false
	c, e := float64(ec), float64(ec+eb)
	logs := cache.at(p)
	for k := range m.logL {
		m.logL[k] += c*logRatio[k] - e*logs[k]
	}
}

// observeOneSample folds in one window of a one-sample test: s of n requests were events, and
// logs[k] is log((1-a_k)/(1-a_0)) for the alternative a_k = rho_k×a_0 of grid point k. The
// factor rho_k^s × ((1-a_k)/(1-a_0))^(n-s) has expectation at most 1 when the event
// probability is at most a_0.
func (m *mixture) observeOneSample(s, n int64, logs *[gridSize]float64) {
	if n <= 0 {
		return
	}
	m.fresh = false
	for k := range m.logL {
		m.logL[k] += float64(s)*logRatio[k] + float64(n-s)*logs[k]
	}
}

// logE returns the log of the mixture e-value: log sum_k w_k L_k, computed stably.
func (m *mixture) logE() float64 {
	if m.fresh {
		return m.cached
	}
	top := math.Inf(-1)
	for _, l := range m.logL {
		top = max(top, l)
	}
	var sum float64
	for k, l := range m.logL {
		sum += priorWeight[k] * math.Exp(l-top)
	}
	m.cached, m.fresh = top+math.Log(sum), true
	return m.cached
}

// eValue turns a log e-value into a finite number for evidence (capped at e^700).
func eValue(logE float64) float64 { return math.Exp(min(logE, 700)) }
