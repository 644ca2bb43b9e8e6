package rollout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// baselineSteps is a canary with a baseline through 10% and 30% to 100%.
var baselineSteps = []spec.CanaryStep{weight(10), pauseFor(10 * time.Second), weight(30), pauseFor(10 * time.Second), weight(100)}

// baselineCount counts the baseline instances in ins (ready ones in ready).
func baselineCount(ins []Instance) (all, ready int) {
	for _, in := range ins {
		if in.Baseline {
			all++
			if in.Ready {
				ready++
			}
		}
	}
	return all, ready
}

// checkBaseline asserts, on every call of a canary with a baseline: weights add up to 100;
// the baseline has the canary's weight below 100; while the steps climb, the baseline has as
// many instances as the canary; traffic never reaches a baseline that is not ready.
func checkBaseline(t *testing.T, lastStep int) func(s *sim, step simStep) {
	return func(s *sim, step simStep) {
		at := step.at.Sub(t0)
		w := step.d.Weights
		if w == nil {
			return
		}
		sum := 0
		for _, v := range w {
			sum += v
		}
		if sum != 100 {
			t.Errorf("at %v: weights %v add up to %d", at, w, sum)
		}
		if w[2] < 100 && w[-1] != w[2] {
			t.Errorf("at %v: weights %v: baseline -1 and canary 2 differ", at, w)
		}
		all, ready := revisions(step.after)
		ball, bready := baselineCount(step.after)
		if step.st.Status == StatusRunning && step.st.Step < lastStep && ball != all[2] {
			t.Errorf("at %v (%s): %d baseline instances, %d canary ones", at, step.st.Phase, ball, all[2])
		}
		if w[-1] > 0 && bready == 0 {
			t.Errorf("at %v: weights %v give traffic to a baseline with no ready instance (%d stable ready)", at, w, ready[1])
		}
	}
}

func TestCanaryBaselinePromoted(t *testing.T) {
	s := newSim(t, canaryOf(spec.Canary{Baseline: true, Steps: baselineSteps}), 1, 5)
	s.behave[1] = behaviour{readyAfter: 3 * time.Second}
	s.behave[2] = behaviour{readyAfter: 2 * time.Second}
	var trail []map[int]int
	s.check = func(s *sim, step simStep) {
		checkBaseline(t, len(baselineSteps))(s, step)
		if w := step.d.Weights; len(trail) == 0 || !cmp.Equal(trail[len(trail)-1], w) {
			trail = append(trail, w)
		}
	}
	s.run()
	if s.st.Status != StatusSucceeded {
		t.Fatalf("status %s (%s), want succeeded", s.st.Status, s.st.Reason)
	}
	want := []map[int]int{
		{1: 100, -1: 0, 2: 0}, {1: 80, -1: 10, 2: 10}, {1: 40, -1: 30, 2: 30}, {2: 100},
	}
	if diff := cmp.Diff(want, trail); diff != "" {
		t.Errorf("weights trail (-want +got):\n%s", diff)
	}
	all, _ := revisions(s.insts)
	if b, _ := baselineCount(s.insts); b != 0 || all[1] != 0 || all[2] != 5 {
		t.Errorf("instances at the end: %v with %d baseline; want 5 of revision 2 only", all, b)
	}
	// 30% of 5 is 2 instances: the baseline grew to 2 with the canary, and stable was never
	// started again (the baseline is not its capacity).
	if s.count[-1] != 2 || s.count[1] != 5 {
		t.Errorf("instances ever: %d baseline, %d stable; want 2 and 5", s.count[-1], s.count[1])
	}
}

func TestCanaryBaselineRolledBack(t *testing.T) {
	s := newSim(t, canaryOf(spec.Canary{Baseline: true, Steps: baselineSteps}), 1, 5)
	s.check = checkBaseline(t, len(baselineSteps))
	judgeBy(s, func(s *sim) *analysis.Verdict {
		if s.now.Sub(t0) > 15*time.Second {
			return verdict(analysis.Fail, 100, "canary errors more often than the baseline")
		}
		return nil
	})
	s.run()
	if s.st.Status != StatusRolledBack {
		t.Fatalf("status %s (%s), want rolled_back", s.st.Status, s.st.Reason)
	}
	all, ready := revisions(s.insts)
	if b, _ := baselineCount(s.insts); b != 0 || all[2] != 0 || ready[1] != 5 || all[1] != 5 {
		t.Errorf("instances at the end: %v (ready %v) with %d baseline; want the 5 stable ones only", all, ready, b)
	}
	if s.count[-1] != 2 {
		t.Errorf("baseline instances ever: %d, want 2 (it reached 30%% of 5)", s.count[-1])
	}
	if got := s.steps[len(s.steps)-1].d.Weights; !cmp.Equal(got, map[int]int{1: 100}) {
		t.Errorf("weights after rollback %v, want all on revision 1", got)
	}
}

// TestBaselineNeverStableCapacity: rollback and other strategies see baseline instances as
// what they are, never as instances of From.
func TestBaselineNeverStableCapacity(t *testing.T) {
	inst := func(id string, rev int, baseline bool) Instance {
		return Instance{ID: id, Revision: rev, Ready: true, ReadySince: t0.Add(-time.Hour), Baseline: baseline}
	}
	withBaseline := canaryOf(spec.Canary{Baseline: true, Steps: baselineSteps})
	tests := []struct {
		name       string
		strategy   spec.Strategy
		st         State
		insts      []Instance
		want       Decision
		wantStatus Status
	}{
		{
			name: "rollback starts stable in place of a lost one, the baseline does not count", strategy: withBaseline,
			st:         State{From: 1, To: 2, Replicas: 3, Status: StatusRunning, RollingBack: true, Step: 2},
			insts:      []Instance{inst("s1", 1, false), inst("s2", 1, false), inst("b1", 1, true), inst("c1", 2, false)},
			want:       Decision{Start: []StartOrder{{Revision: 1, Count: 1}}, Weights: map[int]int{1: 100}, Wait: waitStarting},
			wantStatus: StatusRunning,
		},
		{
			name: "rollback done stops canary and baseline", strategy: withBaseline,
			st:         State{From: 1, To: 2, Replicas: 2, Status: StatusRunning, RollingBack: true, Step: 2},
			insts:      []Instance{inst("s1", 1, false), inst("s2", 1, false), inst("b1", 1, true), inst("c1", 2, false)},
			want:       Decision{Weights: map[int]int{1: 100}, Stop: []string{"c1", "b1"}},
			wantStatus: StatusRolledBack,
		},
		{
			name: "promotion stops stable and baseline", strategy: withBaseline,
			st:         State{From: 1, To: 2, Replicas: 1, Status: StatusRunning, Step: 5, StepAt: t0, LastProgressAt: t0, Progress: 1},
			insts:      []Instance{inst("s1", 1, false), inst("b1", 1, true), inst("c1", 2, false)},
			want:       Decision{Weights: map[int]int{2: 100}, Stop: []string{"s1", "b1"}},
			wantStatus: StatusSucceeded,
		},
		{
			name: "a rolling deployment stops a left-over baseline", strategy: spec.Strategy{Type: spec.TypeRolling},
			st:         State{From: 1, To: 2, Replicas: 1, Status: StatusRunning, LastProgressAt: t0},
			insts:      []Instance{inst("s1", 1, false), inst("b1", 1, true)},
			want:       Decision{Start: []StartOrder{{Revision: 2, Count: 1}}, Stop: []string{"b1"}, Wait: waitStarting},
			wantStatus: StatusRunning,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, d := For(tc.strategy)(tc.st, Observation{Now: t0, Instances: tc.insts})
			if diff := cmp.Diff(tc.want, d); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if st.Status != tc.wantStatus {
				t.Errorf("status %s (%s), want %s", st.Status, st.Phase, tc.wantStatus)
			}
		})
	}
}

// fixedCounts serves the same counters at every look.
type fixedCounts map[int]analysis.Counts

func (f fixedCounts) RevisionCounts(string) map[int]analysis.Counts { return f }

func TestJudgeReference(t *testing.T) {
	stable, base := analysis.Counts{Requests: 1000}, analysis.Counts{Requests: 7}
	for _, tc := range []struct {
		name     string
		baseline bool
		counts   map[int]analysis.Counts
		want     analysis.Counts
	}{
		{"no baseline asked", false, map[int]analysis.Counts{1: stable, -1: base}, stable},
		{"baseline asked, no requests yet", true, map[int]analysis.Counts{1: stable, -1: {}}, stable},
		{"baseline asked and serving", true, map[int]analysis.Counts{1: stable, -1: base}, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Deployment{ID: 1, Service: "web", State: State{From: 1, To: 2},
				Spec: spec.Service{Strategy: canaryOf(spec.Canary{Baseline: tc.baseline, Analysis: spec.CanaryAnalysis{Alpha: 0.05, MinRequests: 1}})}}
			cj, err := newJudge(d)
			if err != nil {
				t.Fatal(err)
			}
			if got := cj.reference(tc.counts, 1); !cmp.Equal(got, tc.want) {
				t.Errorf("reference = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestJudgeComparesWithBaseline: a canary erring as often as its baseline (5%) passes even
// though stable errs less; judged against stable, the same canary fails.
func TestJudgeComparesWithBaseline(t *testing.T) {
	for _, tc := range []struct {
		baseline bool
		want     analysis.Outcome
	}{{true, analysis.Pass}, {false, analysis.Fail}} {
		d := &Deployment{ID: 1, Service: "web", State: State{From: 1, To: 2},
			Spec: spec.Service{Strategy: canaryOf(spec.Canary{Baseline: tc.baseline,
				Analysis: spec.CanaryAnalysis{Alpha: 0.05, MinRequests: 100, TargetRequests: 2000, Latency: new(false)}})}}
		cj, err := newJudge(d)
		if err != nil {
			t.Fatal(err)
		}
		counts := fixedCounts{}
		c := &Controller{metrics: counts}
		var v *analysis.Verdict
		for i := range int64(200) {
			counts[1] = analysis.Counts{Requests: i * 200}
			counts[-1] = analysis.Counts{Requests: i * 20, Errors: i}
			counts[2] = analysis.Counts{Requests: i * 20, Errors: i}
			v = c.verdict(t.Context(), cj, d, t0)
			if v.Outcome == analysis.Fail {
				break
			}
		}
		if v.Outcome != tc.want {
			t.Errorf("baseline %v: verdict %s (%s), want %s", tc.baseline, v.Outcome, v.Reason, tc.want)
		}
	}
}
