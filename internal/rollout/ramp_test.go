package rollout

import (
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

func TestRampNext(t *testing.T) {
	r := spec.RampStep{Max: 50, Factor: 2, Margin: 2, MinRequests: 200, MaxRequests: 1000}
	part := func(shown bool, events int64) analysis.MarginPart {
		return analysis.MarginPart{Shown: shown, CanaryEvents: events, BaselineEvents: events}
	}
	ev := func(served int64, errs analysis.MarginPart, lat ...analysis.MarginPart) analysis.Evidence {
		return analysis.Evidence{Margin: &analysis.MarginEvidence{Margin: 2, Threshold: 20, CanaryRequests: served,
			Errors: &errs, Latency: lat}}
	}
	for _, tc := range []struct {
		name   string
		weight int
		ev     analysis.Evidence
		want   rampMove
	}{
		{"no margin tests yet", 5, analysis.Evidence{}, rampMove{weight: 5, start: true}},
		{"margin tests of another margin", 5, analysis.Evidence{Margin: &analysis.MarginEvidence{Margin: 3}}, rampMove{weight: 5, start: true}},
		{"too few requests at this share", 5, ev(150, part(true, 5)), rampMove{weight: 5}},
		{"raise", 5, ev(200, part(true, 5), part(true, 50)), rampMove{weight: 10, start: true}},
		{"no errors at all bound nothing and hold nothing up", 5, ev(200, part(false, 0), part(true, 50)), rampMove{weight: 10, start: true}},
		{"at least +1", 1, ev(300, part(true, 1)), rampMove{weight: 2, start: true}},
		{"capped at max", 40, ev(300, part(true, 1)), rampMove{weight: 50, start: true}},
		{"errors not shown", 5, ev(900, part(false, 3), part(true, 50)), rampMove{weight: 5}},
		{"latency not shown", 5, ev(900, part(true, 3), part(true, 50), part(false, 4)), rampMove{weight: 5}},
		{"max_requests without evidence", 5, ev(1000, part(false, 3)), rampMove{weight: 5, capped: true}},
		{"done at max", 50, ev(900, part(true, 3), part(true, 9)), rampMove{weight: 50, done: true}},
	} {
		got := rampNext(r, tc.weight, tc.ev)
		got.why = ""
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestRampStepRaisesByEvidence drives a canary with a ramp step through the real controller
// and judge: the share doubles each time the canary has served min_requests at it and the
// margin tests (no errors on either side: nothing to bound) allow it, then the canary is
// promoted; the margin tests start afresh at each share and are stored with the state.
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
	var stored int
	for _, st := range w.states {
		if st.RampWeight > 0 && st.Judge != nil && st.Judge.Snapshot.Margin != nil {
			stored++
		}
	}
	if stored == 0 {
		t.Error("no state during the ramp stored the margin tests")
	}
}
