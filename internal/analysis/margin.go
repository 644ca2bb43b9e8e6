package analysis

import (
	"errors"
	"math"
)

// Margin tests: anytime-valid evidence that the canary is within a margin of the baseline.
//
// The judge's tests look for evidence that the canary is worse (rho > 1). An evidence-paced
// ramp needs the opposite: evidence that it is not much worse, rho < M for a margin M. The
// same conditional count applies with the roles turned: under "rho >= M" each event of a
// window at share p is the canary's with probability at least q_M = Mp/(Mp+1-p), and for an
// alternative rho_a < M with q_a = rho_a p/(rho_a p+1-p) the window's likelihood ratio
//
//	(q_a/q_M)^e_c * ((1-q_a)/(1-q_M))^e_b
//
// has expectation at most 1 whenever q >= q_M (it decreases in q and equals 1 at q_M). The
// product over windows, averaged over a fixed prior on rho_a, is a test supermartingale for
// "rho >= M": once it reaches 1/alpha, rho < M is shown at level alpha, however often it is
// looked at (the complement of the margins it rejects is a confidence sequence for rho). A
// ramp starts these tests afresh at each share, so each raise rests on evidence gathered at
// that share; none is a fixed-sample interval.

// marginPrior are alternatives rho_a at or below 1, with their prior weights: a healthy
// canary's rho is about 1 (below it for latency, whose canary threshold has the tolerance), so
// most weight sits there.
var marginPrior = [...]struct{ rho, w float64 }{{0.125, 1}, {0.25, 1}, {0.5, 1.5}, {0.75, 2}, {1, 3}}

// marginSteps are more alternatives between 1 and M, as fractions of M-1 (weight 1 each).
var marginSteps = [...]float64{0.25, 0.5}

const marginGrid = len(marginPrior) + len(marginSteps)

// marginTest is the e-process of "rho >= M" for one kind of event (errors, or slow requests
// at one quantile), with the events it has seen.
type marginTest struct {
	m          float64
	logL       [marginGrid]float64
	events     [2]int64 // canary's, baseline's
	started    bool     // for a latency test: it had thresholds
	rhos, logW [marginGrid]float64
}

// setup fixes the alternatives for margin m (> 1).
func (t *marginTest) setup(m float64) {
	var w [marginGrid]float64
	var sum float64
	for k, a := range marginPrior {
		t.rhos[k], w[k] = a.rho, a.w
	}
	for k, f := range marginSteps {
		t.rhos[len(marginPrior)+k], w[len(marginPrior)+k] = 1+f*(m-1), 1
	}
	for k := range w {
		sum += w[k]
	}
	for k := range w {
		t.logW[k] = math.Log(w[k] / sum)
	}
	t.m = m
}

// observe folds in one window at share p with ec canary and eb baseline events.
func (t *marginTest) observe(p float64, ec, eb int64) {
	if !(p > 0 && p < 1) || ec+eb <= 0 {
		return
	}
	t.events[0] += ec
	t.events[1] += eb
	qm := split(t.m, p)
	for k, rho := range t.rhos {
		qa := split(rho, p)
		t.logL[k] += float64(ec)*math.Log(qa/qm) + float64(eb)*(math.Log1p(-qa)-math.Log1p(-qm))
	}
}

// split is the probability that an event is the canary's at share p and rate ratio rho.
func split(rho, p float64) float64 { return rho * p / (rho*p + 1 - p) }

// logE is the log of the mixture's e-value.
func (t *marginTest) logE() float64 {
	top := math.Inf(-1)
	for k, l := range t.logL {
		top = max(top, t.logW[k]+l)
	}
	var sum float64
	for k, l := range t.logL {
		sum += math.Exp(t.logW[k] + l - top)
	}
	return top + math.Log(sum)
}

// margins are the margin tests of a judge: errors, then the median's and the tail's slow
// requests, with the canary's requests since they started.
type margins struct {
	m        float64
	errs     marginTest
	lat      [2]marginTest
	requests int64
}

// StartMargin starts (or starts again) the tests of "the canary is within margin m of the
// baseline": its error ratio and its slow-request ratios below m (see MarginEvidence). An
// evidence-paced ramp calls it at each new share. m must be above 1; 0 stops the tests.
func (j *Judge) StartMargin(m float64) error {
	if m == 0 {
		j.margin = nil
		return nil
	}
	if !(m > 1) || math.IsInf(m, 0) {
		return errors.New("margin must be above 1")
	}
	j.margin = newMargins(m)
	return nil
}

func newMargins(m float64) *margins {
	mg := &margins{m: m}
	mg.errs.setup(m)
	for i := range mg.lat {
		mg.lat[i].setup(m)
	}
	return mg
}

// MarginEvidence is what the margin tests have seen since they started: whether the canary's
// error ratio, and its slow-request ratio at each latency test's threshold, is shown below
// Margin (e-value at least Threshold). Errors with no event on either side are not shown, but
// there is nothing to bound: NoEvents says so.
type MarginEvidence struct {
	Margin         float64      `json:"margin"`
	Threshold      float64      `json:"threshold"`
	CanaryRequests int64        `json:"canary_requests"`
	Errors         *MarginPart  `json:"errors,omitempty"` // nil when the error test is off
	Latency        []MarginPart `json:"latency,omitempty"`
}

// MarginPart is one margin test: events of each side since it started and its e-value.
type MarginPart struct {
	Quantile       float64 `json:"quantile,omitempty"`
	CanaryEvents   int64   `json:"canary_events"`
	BaselineEvents int64   `json:"baseline_events"`
	EValue         float64 `json:"e_value"`
	Shown          bool    `json:"shown"`
}

// NoEvents reports whether the test has seen no event at all.
func (p MarginPart) NoEvents() bool { return p.CanaryEvents+p.BaselineEvents == 0 }

// marginEvidence fills the margin tests' evidence, nil when they are off.
func (j *Judge) marginEvidence() *MarginEvidence {
	mg := j.margin
	if mg == nil {
		return nil
	}
	thr := 1 / j.cfg.Alpha
	part := func(t *marginTest, q float64) MarginPart {
		e := eValue(t.logE())
		return MarginPart{Quantile: q, CanaryEvents: t.events[0], BaselineEvents: t.events[1], EValue: e, Shown: e >= thr}
	}
	ev := &MarginEvidence{Margin: mg.m, Threshold: thr, CanaryRequests: mg.requests}
	if !j.cfg.SkipErrors {
		p := part(&mg.errs, 0)
		ev.Errors = &p
	}
	if !j.cfg.SkipLatency {
		for i := range mg.lat {
			p := part(&mg.lat[i], j.lat[i].q)
			p.Shown = p.Shown && mg.lat[i].started
			ev.Latency = append(ev.Latency, p)
		}
	}
	return ev
}

// Within reports whether the evidence shows the canary within the margin: every test that is
// on shows its ratio below it (errors: or there were none on either side, nothing to bound),
// and a latency test that is on has begun.
func (ev *MarginEvidence) Within() bool {
	if ev == nil {
		return false
	}
	if e := ev.Errors; e != nil && !e.Shown && !e.NoEvents() {
		return false
	}
	for _, p := range ev.Latency {
		if !p.Shown {
			return false
		}
	}
	return true
}
