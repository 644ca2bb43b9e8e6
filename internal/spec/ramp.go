package spec

// RampStep is an evidence-paced canary step: from the weight reached before it, the canary's
// share is multiplied by Factor (at least +1) up to Max, each raise once the canary has served
// at least MinRequests at the current share and the judge's anytime-valid margin tests, run
// afresh at each share, show its error ratio (and its slow-request ratios at stable's p50 and
// p95) below Margin times stable's, at the analysis' alpha. It never raises faster than the
// evidence; a fail verdict rolls back as at any step. MaxRequests, when set, is the most
// canary requests one share may serve without that evidence (the exposure before a raise):
// the step then ends as an inconclusive analysis does (the analysis' inconclusive setting).
type RampStep struct {
	Max         int     `yaml:"max" json:"max"`
	Factor      float64 `yaml:"factor" json:"factor"`
	Margin      float64 `yaml:"margin" json:"margin"`
	MinRequests int     `yaml:"min_requests" json:"min_requests"`
	MaxRequests int     `yaml:"max_requests" json:"max_requests,omitempty"`
}

// Defaults of a ramp step.
const (
	DefaultRampFactor      = 2
	DefaultRampMargin      = 2
	DefaultRampMinRequests = 200
)

// defaultRamp fills a ramp's zero fields.
func defaultRamp(r *RampStep) {
	if r.Factor == 0 {
		r.Factor = DefaultRampFactor
	}
	if r.Margin == 0 {
		r.Margin = DefaultRampMargin
	}
	if r.MinRequests == 0 {
		r.MinRequests = DefaultRampMinRequests
	}
}

// validateRamp checks a ramp step at path sp, after a weight prev (-1: none yet).
func validateRamp(errs *Errors, r *RampStep, sp string, prev int) {
	switch {
	case prev <= 0:
		errs.add(sp, "needs a weight step above 0 before it: the ramp starts from that share")
	case r.Max <= prev || r.Max > 100:
		errs.add(sp+".max", "%d must be above the weight before the ramp (%d) and at most 100", r.Max, prev)
	}
	if !(r.Factor > 1 && r.Factor <= 10) {
		errs.add(sp+".factor", "%v must be above 1 and at most 10", r.Factor)
	}
	if !(r.Margin > 1 && r.Margin <= 100) {
		errs.add(sp+".margin", "%v must be above 1 and at most 100 (2: the canary's error ratio is shown below twice stable's)", r.Margin)
	}
	if r.MinRequests < 1 {
		errs.add(sp+".min_requests", "must be at least 1")
	}
	if r.MaxRequests < 0 || (r.MaxRequests > 0 && r.MaxRequests < r.MinRequests) {
		errs.add(sp+".max_requests", "%d must be 0 (no cap) or at least min_requests (%d)", r.MaxRequests, r.MinRequests)
	}
}
