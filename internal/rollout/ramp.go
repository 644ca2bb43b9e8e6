package rollout

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// rampMove is a ramp step's decision at one look.
type rampMove struct {
	weight int    // the share to serve now
	done   bool   // at Max with the evidence: the step is over
	capped bool   // MaxRequests served at this share without the evidence
	start  bool   // (re)start the judge's margin tests: a new share, or none running
	why    string // for the phase
}

// rampNext decides a ramp step from the judge's margin tests at the current share
// (Evidence.Margin, started afresh at each share): it raises the share (by Factor, at least +1,
// at most Max) once the canary has served at least MinRequests at it and the tests show, at
// the analysis' alpha and anytime-valid, its error ratio and its slow-request ratios below
// Margin (analysis.MarginEvidence.Within; no error at all on either side bounds nothing and
// holds nothing up). MaxRequests is the most canary requests one share may serve without that
// evidence: then the step is capped. It is pure: the same evidence gives the same move.
func rampNext(r spec.RampStep, weight int, ev analysis.Evidence) rampMove {
	mg := ev.Margin
	if mg == nil || mg.Margin != r.Margin {
		return rampMove{weight: weight, start: true, why: "starting the margin tests"}
	}
	served := mg.CanaryRequests
	if served < int64(r.MinRequests) {
		return rampMove{weight: weight, why: fmt.Sprintf("%d of %d canary requests at %d%%", served, r.MinRequests, weight)}
	}
	if !mg.Within() {
		m := rampMove{weight: weight, why: notShown(mg)}
		m.capped = r.MaxRequests > 0 && served >= int64(r.MaxRequests)
		return m
	}
	if weight >= r.Max {
		return rampMove{weight: weight, done: true, why: fmt.Sprintf("shown within margin %v at %d%%", r.Margin, weight)}
	}
	next := min(r.Max, max(weight+1, int(math.Floor(float64(weight)*r.Factor))))
	return rampMove{weight: next, start: true, why: fmt.Sprintf("shown within margin %v at %d%% after %d canary requests", r.Margin, weight, served)}
}

// notShown says which margin tests have not shown the canary within the margin yet.
func notShown(mg *analysis.MarginEvidence) string {
	var parts []string
	if e := mg.Errors; e != nil && !e.Shown && !e.NoEvents() {
		parts = append(parts, fmt.Sprintf("errors (canary %d, baseline %d, e-value %.3g)", e.CanaryEvents, e.BaselineEvents, e.EValue))
	}
	for _, p := range mg.Latency {
		if !p.Shown {
			parts = append(parts, fmt.Sprintf("p%v slow requests (canary %d, baseline %d, e-value %.3g)", 100*p.Quantile, p.CanaryEvents, p.BaselineEvents, p.EValue))
		}
	}
	return fmt.Sprintf("not yet shown within margin %v after %d canary requests: %s; needs e-value %.3g",
		mg.Margin, mg.CanaryRequests, strings.Join(parts, ", "), mg.Threshold)
}

// rampStep runs a ramp step: it reports whether the step is over, and otherwise the state
// and decision to wait with. It asks the controller to start the judge's margin tests
// afresh (Decision.Margin) as each share begins.
func (c canary) rampStep(st *State, v view, d *Decision, r spec.RampStep, verdict *analysis.Verdict) bool {
	if st.RampWeight == 0 {
		st.RampWeight = max(c.applied(*st), 1)
		d.Margin = r.Margin
	}
	d.Weights = c.weights(*st, st.RampWeight)
	if verdict == nil {
		st.Phase = fmt.Sprintf("ramp %d%% %s: waiting for canary traffic", st.RampWeight, c.stepName(*st))
		d.Wait = waitIdle
		return false
	}
	m := rampNext(r, st.RampWeight, verdict.Evidence)
	if m.start {
		d.Margin = r.Margin
	}
	switch {
	case m.done:
		st.RampWeight = 0
		d.Margin = -1
		return true
	case m.capped:
		st.Status, st.Reason = StatusPaused, fmt.Sprintf("ramp %s inconclusive at %d%% after max_requests %d: %s", c.stepName(*st), st.RampWeight, r.MaxRequests, m.why)
		st.Phase = "paused: ramp inconclusive " + c.stepName(*st)
		if c.p.Analysis.Inconclusive == spec.InconclusiveFail {
			st.Status, st.RollingBack = StatusRunning, true
		}
		d.Wait = time.Millisecond
		return false
	case m.weight > st.RampWeight:
		st.RampWeight = m.weight
		d.Weights = c.weights(*st, st.RampWeight)
		d.Wait = waitStarting
	default:
		d.Wait = waitIdle
	}
	st.Phase = fmt.Sprintf("ramp %d%% %s: %s", st.RampWeight, c.stepName(*st), m.why)
	return false
}
