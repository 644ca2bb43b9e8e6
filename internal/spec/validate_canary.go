package spec

import (
	"slices"
	"strings"
)

var inconclusiveActions = []string{InconclusivePause, InconclusiveFail, InconclusivePass}

func validateCanary(errs *Errors, c *Canary) {
	const path = "strategy.canary"
	positive(errs, c.ProgressDeadline, path+".progress_deadline")
	analysisPath := validateCanarySteps(errs, c.Steps, path+".steps")
	if c.Baseline {
		validateBaselineWeights(errs, c.Steps, path+".steps")
	}
	validateCanaryAnalysis(errs, &c.Analysis, path+".analysis", analysisPath)
	validateCanaryRouting(errs, &c.Routing, path+".routing")
}

// validateCanarySteps checks each step and that weights never go down; it returns the path of
// the first analysis step, or "" when there is none.
func validateCanarySteps(errs *Errors, steps []CanaryStep, path string) string {
	if len(steps) == 0 {
		errs.add(path, "at least one step is required (like weight: 10, pause: 1m, weight: 100)")
		return ""
	}
	analysisPath := ""
	prev := -1
	for i, step := range steps {
		sp := indexPath(path, i)
		if countSet(step.Weight != nil, step.Pause != nil, step.Analysis != nil, step.Ramp != nil) != 1 {
			errs.add(sp, "set exactly one of weight, pause, analysis, ramp")
		}
		if step.Ramp != nil {
			validateRamp(errs, step.Ramp, sp+".ramp", prev)
			if analysisPath == "" {
				analysisPath = sp + ".ramp"
			}
			prev = max(prev, step.Ramp.Max)
		}
		if step.Pause != nil && *step.Pause < 0 {
			errs.add(sp+".pause", "must not be negative (write {} to wait for cutover promote)")
		}
		if step.Analysis != nil {
			positive(errs, step.Analysis.Duration, sp+".analysis.duration")
			if analysisPath == "" {
				analysisPath = sp + ".analysis"
			}
		}
		if step.Weight == nil {
			continue
		}
		switch w := *step.Weight; {
		case w < 0 || w > 100:
			errs.add(sp+".weight", "%d is not between 0 and 100", w)
		case w < prev:
			errs.add(sp+".weight", "%d is less than the previous weight %d: a canary's weight never goes down", w, prev)
		default:
			prev = w
		}
	}
	return analysisPath
}

// validateBaselineWeights checks that each weight below 100 leaves room for a baseline of
// the same share: canary and baseline take 2×weight, stable the rest.
func validateBaselineWeights(errs *Errors, steps []CanaryStep, path string) {
	for i, step := range steps {
		if w := step.Weight; w != nil && *w > 50 && *w < 100 {
			errs.add(indexPath(path, i)+".weight", "%d is above 50: with baseline: true the canary and its baseline each take the weight, stable the rest", *w)
		}
	}
}

// validateCanaryAnalysis checks the judge's settings. An analysis step needs something to
// judge by: one of the sequential tests or an absolute limit.
func validateCanaryAnalysis(errs *Errors, a *CanaryAnalysis, path, analysisStep string) {
	if !(a.Alpha > 0 && a.Alpha <= 0.5) {
		errs.add(path+".alpha", "%v is outside (0, 0.5]: it bounds the chance of rolling back a good canary", a.Alpha)
	}
	if r := a.MaxErrorRate; r != nil && !(*r >= 0 && *r <= 1) {
		errs.add(path+".max_error_rate", "%v is outside [0, 1] (0.05 means 5%%)", *r)
	}
	if a.MaxP99 < 0 {
		errs.add(path+".max_p99", "must not be negative")
	}
	if t := a.LatencyTolerance; t != nil && !(*t >= 0 && *t <= 10) {
		errs.add(path+".latency_tolerance", "%v is outside [0, 10] (0.05 allows the canary to be 5%% slower)", *t)
	}
	if a.MinRequests < 1 {
		errs.add(path+".min_requests", "must be at least 1")
	}
	if a.TargetRequests < 0 {
		errs.add(path+".target_requests", "must not be negative (0 passes an analysis step at the end of its duration)")
	}
	if !slices.Contains(inconclusiveActions, a.Inconclusive) {
		errs.add(path+".inconclusive", "must be one of %s, not %q", strings.Join(inconclusiveActions, ", "), a.Inconclusive)
	}
	validatePrometheus(errs, a.Prometheus, path+".prometheus")
	if analysisStep != "" && !a.HasMetric() {
		errs.add(analysisStep, "has no metric to judge by: errors and latency are false and neither max_error_rate, max_p99 nor a prometheus check is set in %s", path)
	}
}

// HasMetric reports whether the analysis judges anything: a sequential test (nil counts as
// on, its default), an absolute limit or a Prometheus check.
func (a CanaryAnalysis) HasMetric() bool {
	on := func(b *bool) bool { return b == nil || *b }
	return on(a.Errors) || on(a.Latency) || a.MaxErrorRate != nil || a.MaxP99 > 0 || len(a.Prometheus) > 0
}

func validateCanaryRouting(errs *Errors, r *CanaryRouting, path string) {
	if r.Header != "" && !headerRE.MatchString(r.Header) {
		errs.add(path+".header", "%q is not a valid HTTP header name", r.Header)
	}
	if r.Cookie != "" && !headerRE.MatchString(r.Cookie) {
		errs.add(path+".cookie", "%q is not a valid cookie name", r.Cookie)
	}
	if r.Sticky != "" && !validSticky(r.Sticky) {
		errs.add(path+".sticky", "%q must be cookie:NAME, header:NAME or client_ip", r.Sticky)
	}
}

// validSticky reports whether s is "client_ip", "cookie:NAME" or "header:NAME".
func validSticky(s string) bool {
	if s == "client_ip" {
		return true
	}
	for _, kind := range []string{"cookie:", "header:"} {
		if name, ok := strings.CutPrefix(s, kind); ok {
			return headerRE.MatchString(name)
		}
	}
	return false
}
