package rollout

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

func TestRampNext(t *testing.T) {
	r := spec.RampStep{Max: 50, Factor: 2, Margin: 2, MinRequests: 200, MaxRequests: 1000}
	ev := func(canary int64, errHigh, slowHigh float64) analysis.Evidence {
		e := analysis.Evidence{Canary: analysis.RevisionEvidence{Requests: canary}}
		if errHigh > 0 {
			e.ErrorRatio = &analysis.Interval{Estimate: 1, Low: 0, High: errHigh, Level: 0.95}
		}
		if slowHigh > 0 {
			e.Latency = []analysis.QuantileEvidence{{Quantile: 0.95, SlowRatio: &analysis.Interval{High: slowHigh}}}
		}
		return e
	}
	for _, tc := range []struct {
		name   string
		weight int
		ev     analysis.Evidence
		mark   int64
		want   rampMove
	}{
		{"too few requests at this share", 5, ev(450, 1.2, 0), 300, rampMove{weight: 5}},
		{"raise", 5, ev(500, 1.2, 1.1), 300, rampMove{weight: 10}},
		{"at least +1", 1, ev(500, 0, 0), 300, rampMove{weight: 2}},
		{"capped at max", 40, ev(500, 0, 0), 0, rampMove{weight: 50}},
		{"error bound above margin", 5, ev(900, 2.5, 0), 0, rampMove{weight: 5}},
		{"canary errors, baseline none", 5, ev(900, math.Inf(1), 0), 0, rampMove{weight: 5}},
		{"slow bound above margin", 5, ev(900, 1.5, 3), 0, rampMove{weight: 5}},
		{"max_requests without evidence", 5, ev(1300, 2.5, 0), 0, rampMove{weight: 5, capped: true}},
		{"done at max", 50, ev(900, 1.5, 1.5), 0, rampMove{weight: 50, done: true}},
	} {
		got := rampNext(r, tc.weight, tc.ev, tc.mark)
		got.why = ""
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestRampStepRaisesByEvidence drives a canary with a ramp step through the real controller
// and judge: the share doubles each time the canary has served min_requests at it, then the
// canary is promoted.
func TestRampStepRaisesByEvidence(t *testing.T) {
	s := spec.Service{Name: "web", Replicas: 1, Run: spec.Run{Command: "x"}, Route: spec.Route{Listen: ":1"},
		Strategy: spec.Strategy{Canary: &spec.Canary{
			Steps:    []spec.CanaryStep{{Weight: new(5)}, {Ramp: &spec.RampStep{Max: 20, MinRequests: 200}}},
			Analysis: spec.CanaryAnalysis{Latency: new(false), MinRequests: 1},
		}}}
	spec.Default(&s)
	now := time.Now()
	d := &Deployment{ID: 10, Service: "web", Spec: s, State: State{Strategy: spec.TypeCanary, From: 1, To: 2, Replicas: 1,
		Status: StatusRunning, Phase: "starting", StartedAt: now, LastProgressAt: now}}
	w := drive(t, d)
	var ramp []int
	for _, st := range w.states {
		if n := len(ramp); st.RampWeight > 0 && (n == 0 || ramp[n-1] != st.RampWeight) {
			ramp = append(ramp, st.RampWeight)
		}
	}
	if st := last(w); st.Status != StatusSucceeded {
		t.Fatalf("final status %s (%s), want succeeded", st.Status, st.Reason)
	}
	if want := []int{5, 10, 20}; !slices.Equal(ramp, want) {
		t.Errorf("ramp weights %v, want %v", ramp, want)
	}
}
