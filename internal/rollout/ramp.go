package rollout

import (
	"fmt"
	"math"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// rampMove is a ramp step's decision at one look.
type rampMove struct {
	weight int    // the share to serve now
	done   bool   // at Max with the evidence: the step is over
	capped bool   // MaxRequests served at this share without the evidence
	why    string // for the phase
}

// rampNext decides a ramp step from the verdict's evidence: mark is the canary's request
// count when the current share began. It raises the share (by Factor, at least +1, at most
// Max) once the canary has served MinRequests at it and the evidence bounds the canary's
// error ratio and slow-request ratios to Margin: the upper ends of their intervals
// (Evidence.ErrorRatio, QuantileEvidence.SlowRatio) are at most Margin; no events at all bound
// nothing and count as within it. It is pure: the same evidence gives the same move.
func rampNext(r spec.RampStep, weight int, ev analysis.Evidence, mark int64) rampMove {
	served := ev.Canary.Requests - mark
	if served < int64(r.MinRequests) {
		return rampMove{weight: weight, why: fmt.Sprintf("%d of %d canary requests at %d%%", served, r.MinRequests, weight)}
	}
	if why := beyondMargin(ev, r.Margin); why != "" {
		m := rampMove{weight: weight, why: why}
		m.capped = r.MaxRequests > 0 && served >= int64(r.MaxRequests)
		return m
	}
	if weight >= r.Max {
		return rampMove{weight: weight, done: true, why: fmt.Sprintf("within margin %v at %d%%", r.Margin, weight)}
	}
	next := min(r.Max, max(weight+1, int(math.Floor(float64(weight)*r.Factor))))
	return rampMove{weight: next, why: fmt.Sprintf("within margin %v at %d%% after %d canary requests", r.Margin, weight, served)}
}

// beyondMargin says which bound is still above margin, "" when none is.
func beyondMargin(ev analysis.Evidence, margin float64) string {
	if r := ev.ErrorRatio; r != nil && r.High > margin {
		return fmt.Sprintf("error ratio up to %s, above margin %v", bound(r.High), margin)
	}
	for _, q := range ev.Latency {
		if r := q.SlowRatio; r != nil && r.High > margin {
			return fmt.Sprintf("slow-request ratio at p%v up to %s, above margin %v", 100*q.Quantile, bound(r.High), margin)
		}
	}
	return ""
}

func bound(x float64) string {
	if math.IsInf(x, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.3g", x)
}

// rampStep runs a ramp step: it reports whether the step is over, and otherwise the state
// and decision to wait with.
func (c canary) rampStep(st *State, v view, d *Decision, r spec.RampStep, verdict *analysis.Verdict) bool {
	if st.RampWeight == 0 {
		st.RampWeight, st.RampMark = max(c.applied(*st), 1), 0
		if verdict != nil {
			st.RampMark = verdict.Evidence.Canary.Requests
		}
	}
	d.Weights = c.weights(*st, st.RampWeight)
	if verdict == nil {
		st.Phase = fmt.Sprintf("ramp %d%% %s: waiting for canary traffic", st.RampWeight, c.stepName(*st))
		d.Wait = waitIdle
		return false
	}
	m := rampNext(r, st.RampWeight, verdict.Evidence, st.RampMark)
	switch {
	case m.done:
		st.RampWeight, st.RampMark = 0, 0
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
		st.RampWeight, st.RampMark = m.weight, verdict.Evidence.Canary.Requests
		d.Weights = c.weights(*st, st.RampWeight)
		d.Wait = waitStarting
	default:
		d.Wait = waitIdle
	}
	st.Phase = fmt.Sprintf("ramp %d%% %s", st.RampWeight, c.stepName(*st))
	return false
}
