package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

func canaryOf(c spec.Canary) spec.Strategy {
	return spec.Strategy{Type: spec.TypeCanary, Canary: &c}
}

func weight(w int) spec.CanaryStep { return spec.CanaryStep{Weight: new(w)} }

func pauseFor(d time.Duration) spec.CanaryStep {
	return spec.CanaryStep{Pause: new(spec.Duration(d))}
}

func analyseFor(d time.Duration) spec.CanaryStep {
	return spec.CanaryStep{Analysis: &spec.AnalysisStep{Duration: spec.Duration(d)}}
}

// sixSteps is the canary of the spec's documentation: 6 steps, a manual pause at step 5.
var sixSteps = []spec.CanaryStep{
	weight(5), pauseFor(30 * time.Second), analyseFor(2 * time.Minute), weight(25), pauseFor(0), weight(100),
}

func verdict(o analysis.Outcome, requests int64, reason string) *analysis.Verdict {
	v := &analysis.Verdict{Outcome: o, Reason: reason}
	v.Evidence.Canary.Requests = requests
	return v
}

// judgeBy makes the sim give the strategy the verdict j returns for the world it sees.
func judgeBy(s *sim, j func(s *sim) *analysis.Verdict) {
	next := s.next
	s.next = func(st State, obs Observation) (State, Decision) {
		obs.Verdict = j(s)
		return next(st, obs)
	}
}

// trafficJudge is a judge over simulated traffic: the canary serves its weight's share of
// 100 requests/s; before passAt canary requests the verdict is inconclusive, then pass.
// failAt, when non-zero, fails it from that time on.
type trafficJudge struct {
	requests float64
	last     time.Time
	passAt   float64
	failAt   time.Duration
}

func (j *trafficJudge) verdict(s *sim) *analysis.Verdict {
	if !j.last.IsZero() {
		j.requests += 100 * float64(s.weights[2]) / 100 * s.now.Sub(j.last).Seconds()
	}
	j.last = s.now
	switch {
	case j.failAt > 0 && s.now.Sub(t0) >= j.failAt:
		return verdict(analysis.Fail, int64(j.requests), "canary errors more often than the baseline")
	case s.weights[2] == 0:
		return nil
	case j.requests >= j.passAt:
		return verdict(analysis.Pass, int64(j.requests), "target reached")
	}
	return verdict(analysis.Inconclusive, int64(j.requests), "analysing")
}

// approveWhen promotes once per step whose phase starts with prefix, from time after on.
func approveWhen(prefix string, after time.Duration) func(s *sim) {
	approved := -1
	return func(s *sim) {
		if strings.HasPrefix(s.st.Phase, prefix) && s.now.Sub(t0) >= after && s.st.Step != approved {
			s.st.Approved, approved = true, s.st.Step
		}
	}
}

// checkCanaryTraffic asserts, after every call, what must always hold of a canary's
// traffic: weights are set and add up to 100; the canary's weight never goes down (until a
// rollback) and is never above zero without enough ready instances for it; stable keeps
// serving while it has a share.
func checkCanaryTraffic(t *testing.T, replicas int) func(s *sim, step simStep) {
	prev := 0
	return func(s *sim, step simStep) {
		t.Helper()
		at := step.at.Sub(t0)
		w := step.d.Weights
		if w == nil {
			t.Errorf("at %v: nil weights", at)
			return
		}
		if step.st.RollingBack || step.st.Status == StatusRolledBack || step.st.Status == StatusAborted {
			return
		}
		if sum := w[1] + w[2]; sum != 100 {
			t.Errorf("at %v: weights %v add up to %d", at, w, sum)
		}
		if w[2] < prev {
			t.Errorf("at %v: canary weight went down from %d to %d", at, prev, w[2])
		}
		prev = w[2]
		_, readyAfter := revisions(step.after)
		if w[2] > 0 && readyAfter[2] < need(w[2], replicas) {
			t.Errorf("at %v: canary weight %d with %d ready canary instances, want %d", at, w[2], readyAfter[2], need(w[2], replicas))
		}
		if w[1] > 0 && readyAfter[1] == 0 {
			t.Errorf("at %v: stable weight %d with no ready stable instance", at, w[1])
		}
	}
}

// weightTrail lists the canary weights the run set, without repeats.
func weightTrail(s *sim) []int {
	var out []int
	for _, step := range s.steps {
		if w := step.d.Weights[2]; step.d.Weights != nil && (len(out) == 0 || out[len(out)-1] != w) {
			out = append(out, w)
		}
	}
	return out
}

// phaseTrail lists the phases the run went through, without repeats.
func phaseTrail(s *sim) []string {
	var out []string
	for _, step := range s.steps {
		if p := step.st.Phase; len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// firstAt returns when the first step whose state satisfies f was taken, or -1.
func firstAt(s *sim, f func(st State) bool) time.Duration {
	for _, step := range s.steps {
		if f(step.st) {
			return step.at.Sub(t0)
		}
	}
	return -1
}

func TestCanaryRun(t *testing.T) {
	failReason := "canary errors more often than the baseline"
	tests := []struct {
		name       string
		c          spec.Canary
		from       int
		replicas   int
		judge      *trafficJudge
		canary     behaviour
		setup      func(s *sim)
		wantStatus Status
		wantReason string
		wantReady  map[int]int
		wantTrail  []int
		verify     func(t *testing.T, s *sim)
	}{
		{
			name: "healthy: through every step", c: spec.Canary{Steps: sixSteps}, from: 1, replicas: 4,
			judge: &trafficJudge{passAt: 300}, canary: behaviour{readyAfter: 2 * time.Second},
			setup:      func(s *sim) { s.before = approveWhen("awaiting promote", 0) },
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 4}, wantTrail: []int{0, 5, 25, 100},
			verify: func(t *testing.T, s *sim) {
				for _, want := range []string{"canary 5%", "pause 30s (step 2/6)", "canary 25%", "awaiting promote (step 5/6)", "promoted"} {
					if !contains(phaseTrail(s), want) {
						t.Errorf("phases %q lack %q", phaseTrail(s), want)
					}
				}
				weighted := firstAt(s, func(st State) bool { return st.Phase == "canary 5%" })
				analysing := firstAt(s, func(st State) bool { return strings.HasPrefix(st.Phase, "analysis (step 3/6)") })
				if got := analysing - weighted; got < 30*time.Second || got > 31*time.Second {
					t.Errorf("analysis began %v after weight 5, want the 30s pause", got)
				}
				// 300 requests at 5 a second: a minute of analysis, then a pass.
				if got := firstAt(s, func(st State) bool { return st.Phase == "canary 25%" }) - analysing; got < 29*time.Second || got > 31*time.Second {
					t.Errorf("weight 25 came %v after the analysis began, want about 30s", got)
				}
				if s.count[2] != 4 || s.count[1] != 4 {
					t.Errorf("instances ever: %d canary, %d stable; want 4 and 4 (no stable restarts)", s.count[2], s.count[1])
				}
				if s.st.Verdict == nil || s.st.Verdict.Outcome != analysis.Pass {
					t.Errorf("last verdict %+v, want pass", s.st.Verdict)
				}
			},
		},
		{
			name: "fail verdict during a pause rolls back", c: spec.Canary{Steps: sixSteps}, from: 1, replicas: 3,
			judge: &trafficJudge{passAt: 1e9, failAt: 20 * time.Second}, canary: behaviour{readyAfter: time.Second},
			wantStatus: StatusRolledBack, wantReason: failReason, wantReady: map[int]int{1: 3}, wantTrail: []int{0, 5, 0},
			verify: func(t *testing.T, s *sim) {
				i := len(s.steps) - 1
				last := s.steps[i]
				if s.steps[i-1].st.Phase != "pause 30s (step 2/6)" {
					t.Errorf("phase before the rollback %q, want the pause", s.steps[i-1].st.Phase)
				}
				want := Decision{Weights: map[int]int{1: 100}, Stop: []string{"r2-1"}}
				if diff := cmp.Diff(last.d, want); diff != "" {
					t.Errorf("rollback decision (-got +want):\n%s", diff)
				}
				if s.st.Verdict == nil || s.st.Verdict.Outcome != analysis.Fail {
					t.Errorf("verdict %+v, want the fail verdict kept", s.st.Verdict)
				}
			},
		},
		{
			name: "manual pause waits for promote past the progress deadline", c: spec.Canary{Steps: sixSteps, ProgressDeadline: spec.Duration(time.Minute)},
			from: 1, replicas: 2, judge: &trafficJudge{passAt: 10}, canary: behaviour{readyAfter: time.Second},
			setup:      func(s *sim) { s.before = approveWhen("awaiting promote", time.Hour) },
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2}, wantTrail: []int{0, 5, 25, 100},
			verify: func(t *testing.T, s *sim) {
				if got := firstAt(s, func(st State) bool { return st.Status == StatusSucceeded }); got < time.Hour {
					t.Errorf("promoted after %v, before the promote at 1h", got)
				}
				if s.st.Approved {
					t.Error("Approved still set after the pause used it")
				}
			},
		},
		{
			name: "analysis inconclusive pauses", c: spec.Canary{Steps: sixSteps, Analysis: spec.CanaryAnalysis{Inconclusive: spec.InconclusivePause}},
			from: 1, replicas: 2, judge: &trafficJudge{passAt: 1e9}, canary: behaviour{readyAfter: time.Second},
			setup: func(s *sim) {
				s.stop = func(s *sim) bool {
					return s.st.Status != StatusRunning && s.st.Status != StatusPaused || s.now.Sub(t0) > time.Hour
				}
			},
			wantStatus: StatusPaused, wantReady: map[int]int{1: 2, 2: 1}, wantTrail: []int{0, 5},
			wantReason: "analysis (step 3/6) inconclusive after 2m0s: analysing",
			verify: func(t *testing.T, s *sim) {
				if want := "paused: analysis inconclusive (step 3/6)"; s.st.Phase != want {
					t.Errorf("phase %q, want %q", s.st.Phase, want)
				}
				paused := firstAt(s, func(st State) bool { return st.Status == StatusPaused })
				began := firstAt(s, func(st State) bool { return strings.HasPrefix(st.Phase, "analysis") })
				if got := paused - began; got != 2*time.Minute {
					t.Errorf("paused %v after the analysis began, want its 2m", got)
				}
			},
		},
		{
			name: "analysis inconclusive fails", c: spec.Canary{Steps: sixSteps, Analysis: spec.CanaryAnalysis{Inconclusive: spec.InconclusiveFail}},
			from: 1, replicas: 2, judge: &trafficJudge{passAt: 1e9}, canary: behaviour{readyAfter: time.Second},
			wantStatus: StatusRolledBack, wantReady: map[int]int{1: 2}, wantTrail: []int{0, 5, 0},
			wantReason: "analysis (step 3/6) inconclusive after 2m0s: analysing",
		},
		{
			name: "analysis inconclusive passes", c: spec.Canary{Steps: sixSteps, Analysis: spec.CanaryAnalysis{Inconclusive: spec.InconclusivePass}},
			from: 1, replicas: 2, judge: &trafficJudge{passAt: 1e9}, canary: behaviour{readyAfter: time.Second},
			setup:      func(s *sim) { s.before = approveWhen("awaiting promote", 0) },
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2}, wantTrail: []int{0, 5, 25, 100},
		},
		{
			name: "promote full skips the remaining steps", c: spec.Canary{Steps: sixSteps}, from: 1, replicas: 3,
			judge: &trafficJudge{passAt: 1e9}, canary: behaviour{readyAfter: 5 * time.Second},
			setup: func(s *sim) {
				s.before = func(s *sim) {
					if strings.HasPrefix(s.st.Phase, "pause") {
						s.st.PromoteFull, s.st.Approved = true, true
					}
				}
			},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3}, wantTrail: []int{0, 5, 100},
			verify: func(t *testing.T, s *sim) {
				if !contains(phaseTrail(s), "promoting: scaling canary to 3 (1/3 available)") {
					t.Errorf("phases %q lack the promoting phase", phaseTrail(s))
				}
			},
		},
		{
			name: "abort during analysis", c: spec.Canary{Steps: sixSteps}, from: 1, replicas: 2,
			judge: &trafficJudge{passAt: 1e9}, canary: behaviour{readyAfter: time.Second},
			setup: func(s *sim) {
				s.before = func(s *sim) {
					if strings.HasPrefix(s.st.Phase, "analysis") {
						s.st.AbortRequested = true
					}
				}
			},
			wantStatus: StatusAborted, wantReason: "aborted by operator", wantReady: map[int]int{1: 2}, wantTrail: []int{0, 5, 0},
		},
		{
			name: "canary grows with its weight", c: spec.Canary{Steps: []spec.CanaryStep{weight(5), weight(20), weight(50), weight(90)}},
			from: 1, replicas: 10, judge: &trafficJudge{}, canary: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 10}, wantTrail: []int{0, 5, 20, 50, 90, 100},
			verify: func(t *testing.T, s *sim) {
				got := map[int]int{}
				for _, step := range s.steps {
					all, _ := revisions(step.after)
					if w := step.d.Weights[2]; all[2] > got[w] {
						got[w] = all[2]
					}
				}
				want := map[int]int{0: 1, 5: 2, 20: 5, 50: 9, 90: 10, 100: 10}
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("most canary instances at each weight (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "canary crash-loops", c: spec.Canary{Steps: sixSteps}, from: 1, replicas: 2,
			judge: &trafficJudge{}, canary: behaviour{crashAfter: 3 * time.Second},
			wantStatus: StatusRolledBack, wantReason: "instance r2-1 of revision 2 is crash-looping: exit status 1",
			wantReady: map[int]int{1: 2}, wantTrail: []int{0},
		},
		{
			name: "canary never ready", c: spec.Canary{Steps: sixSteps, ProgressDeadline: spec.Duration(time.Minute)}, from: 1, replicas: 2,
			judge: &trafficJudge{}, canary: behaviour{never: true},
			wantStatus: StatusRolledBack, wantReason: "revision 2 did not become ready within progress_deadline 1m0s (0/2 ready)",
			wantReady: map[int]int{1: 2}, wantTrail: []int{0},
		},
		{
			name: "first deployment: no steps", c: spec.Canary{Steps: sixSteps}, from: 0, replicas: 3,
			judge: &trafficJudge{}, canary: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3}, wantTrail: []int{100},
		},
		{
			name: "smoke before any traffic", c: spec.Canary{Steps: []spec.CanaryStep{weight(10)}}, from: 1, replicas: 2,
			judge: &trafficJudge{}, canary: behaviour{readyAfter: time.Second},
			setup:      func(s *sim) { s.svc.Hooks.Smoke = smokeHook },
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2}, wantTrail: []int{0, 10, 100},
			verify: func(t *testing.T, s *sim) {
				for _, step := range s.steps {
					if step.d.Hook == HookSmoke && step.d.Weights[2] != 0 {
						t.Errorf("smoke asked with canary weight %d", step.d.Weights[2])
					}
				}
				if s.asked[HookSmoke] != 1 {
					t.Errorf("smoke asked %d times, want 1", s.asked[HookSmoke])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if c.Analysis.Inconclusive == "" {
				c.Analysis.Inconclusive = spec.InconclusivePause
			}
			s := newSim(t, canaryOf(c), tt.from, tt.replicas)
			s.behave[2] = tt.canary
			judgeBy(s, tt.judge.verdict)
			if tt.from != 0 {
				s.check = checkCanaryTraffic(t, tt.replicas)
			}
			if tt.setup != nil {
				tt.setup(s)
			}
			s.run()
			assertEnd(t, s, tt.wantStatus, tt.wantReason, tt.wantReady)
			if diff := cmp.Diff(weightTrail(s), tt.wantTrail); diff != "" {
				t.Errorf("canary weights (-got +want):\n%s\nphases %q", diff, phaseTrail(s))
			}
			if tt.verify != nil {
				tt.verify(t, s)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCanaryStep checks single calls at a given step of sixSteps (2 replicas: stable a, b
// and one ready canary n1).
func TestCanaryStep(t *testing.T) {
	fail := verdict(analysis.Fail, 900, "canary errors more often than the baseline")
	tests := []struct {
		name    string
		st      func(st State) State
		now     time.Duration
		verdict *analysis.Verdict
		incl    string
		want    Decision
		verify  func(t *testing.T, st State)
	}{
		{
			name: "pause requested keeps the weight",
			st:   func(st State) State { st.Step, st.PauseRequested = 5, true; return st },
			want: Decision{Weights: map[int]int{1: 75, 2: 25}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if st.Status != StatusPaused || st.Step != 5 {
					t.Errorf("status %q step %d, want paused at 5", st.Status, st.Step)
				}
			},
		},
		{
			name:    "fail verdict while paused rolls back in one decision",
			st:      func(st State) State { st.Step, st.Status, st.Phase = 5, StatusPaused, "paused"; return st },
			verdict: fail,
			want:    Decision{Weights: map[int]int{1: 100}, Stop: []string{"n1"}},
			verify: func(t *testing.T, st State) {
				if st.Status != StatusRolledBack || st.Reason != fail.Reason || !cmp.Equal(st.Verdict, fail) {
					t.Errorf("status %q reason %q verdict %+v; want rolled_back with the verdict", st.Status, st.Reason, st.Verdict)
				}
			},
		},
		{
			name:    "abort wins over a fail verdict",
			st:      func(st State) State { st.Step, st.AbortRequested = 3, true; return st },
			verdict: fail,
			want:    Decision{Weights: map[int]int{1: 100}, Stop: []string{"n1"}},
			verify: func(t *testing.T, st State) {
				if st.Status != StatusAborted || st.Reason != "aborted by operator" {
					t.Errorf("status %q reason %q, want aborted by operator", st.Status, st.Reason)
				}
			},
		},
		{
			name: "analysis under way sets the step deadline",
			st:   func(st State) State { st.Step = 3; return st },
			now:  time.Minute, verdict: verdict(analysis.Inconclusive, 1234, "analysing"),
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if want := "analysis (step 3/6): inconclusive"; st.Phase != want {
					t.Errorf("phase %q, want %q", st.Phase, want)
				}
				if !st.StepDeadline.Equal(t0.Add(2 * time.Minute)) {
					t.Errorf("step deadline %v, want t0+2m", st.StepDeadline.Sub(t0))
				}
			},
		},
		{
			name: "final pass at the deadline goes on to the next weight",
			st:   func(st State) State { st.Step = 3; return st },
			now:  2 * time.Minute, verdict: verdict(analysis.Pass, 150, "no regression found"),
			want: Decision{Weights: map[int]int{1: 75, 2: 25}, Wait: waitStarting},
			verify: func(t *testing.T, st State) {
				if st.Step != 5 || st.Phase != "canary 25%" || !st.StepDeadline.IsZero() {
					t.Errorf("step %d phase %q deadline %v; want 5, canary 25%%, none", st.Step, st.Phase, st.StepDeadline)
				}
			},
		},
		{
			name: "inconclusive at the deadline pauses",
			st:   func(st State) State { st.Step = 3; return st },
			now:  2 * time.Minute, verdict: verdict(analysis.Inconclusive, 20, "not enough canary traffic"),
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if want := "analysis (step 3/6) inconclusive after 2m0s: not enough canary traffic"; st.Status != StatusPaused || st.Reason != want {
					t.Errorf("status %q reason %q, want paused, %q", st.Status, st.Reason, want)
				}
			},
		},
		{
			name: "no verdict at the deadline is inconclusive",
			st:   func(st State) State { st.Step = 3; return st },
			now:  2 * time.Minute, incl: spec.InconclusiveFail,
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Wait: time.Millisecond},
			verify: func(t *testing.T, st State) {
				if want := "analysis (step 3/6) inconclusive after 2m0s: no verdict: the canary served no traffic to judge"; !st.RollingBack || st.Reason != want {
					t.Errorf("rolling back %v reason %q, want %q", st.RollingBack, st.Reason, want)
				}
			},
		},
		{
			name: "promote continues a canary that analysis paused",
			st: func(st State) State {
				st.Step, st.Status, st.Phase, st.Reason, st.Approved = 3, StatusPaused, "paused: analysis inconclusive (step 3/6)", "x", true
				return st
			},
			now: time.Hour, verdict: verdict(analysis.Inconclusive, 20, "analysing"),
			want: Decision{Weights: map[int]int{1: 75, 2: 25}, Wait: waitStarting},
			verify: func(t *testing.T, st State) {
				if st.Status != StatusRunning || st.Reason != "" || st.Approved || st.Step != 5 {
					t.Errorf("status %q reason %q approved %v step %d; want running at step 5", st.Status, st.Reason, st.Approved, st.Step)
				}
			},
		},
		{
			name: "promote full continues a canary that analysis paused",
			st: func(st State) State {
				st.Step, st.Status, st.Phase, st.Reason, st.PromoteFull = 3, StatusPaused, "paused: analysis inconclusive (step 3/6)", "x", true
				return st
			},
			now:  time.Hour,
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Start: []StartOrder{{Revision: 2, Count: 1}}, Wait: waitStarting},
			verify: func(t *testing.T, st State) {
				if want := "promoting: scaling canary to 2 (1/2 available)"; st.Status != StatusRunning || st.Phase != want {
					t.Errorf("status %q phase %q, want running, %q", st.Status, st.Phase, want)
				}
			},
		},
		{
			name: "resume restarts the analysis step",
			st: func(st State) State {
				st.Step, st.Phase = 3, "paused: analysis inconclusive (step 3/6)"
				return st
			},
			now:  time.Hour,
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if !st.StepAt.Equal(t0.Add(time.Hour)) || !st.StepDeadline.Equal(t0.Add(time.Hour+2*time.Minute)) {
					t.Errorf("step at %v deadline %v, want 1h and 1h2m", st.StepAt.Sub(t0), st.StepDeadline.Sub(t0))
				}
				if want := "analysis (step 3/6): waiting for canary traffic"; st.Phase != want {
					t.Errorf("phase %q, want %q", st.Phase, want)
				}
			},
		},
		{
			name: "promote ends a timed pause early",
			st:   func(st State) State { st.Step, st.Approved = 2, true; return st },
			now:  time.Second, verdict: verdict(analysis.Inconclusive, 5, "analysing"),
			want: Decision{Weights: map[int]int{1: 95, 2: 5}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if st.Step != 3 || st.Approved || !strings.HasPrefix(st.Phase, "analysis (step 3/6)") {
					t.Errorf("step %d approved %v phase %q; want the analysis step, promote used", st.Step, st.Approved, st.Phase)
				}
			},
		},
		{
			name:    "a fail verdict after success changes nothing",
			st:      func(st State) State { st.Step, st.Status, st.Phase = 6, StatusSucceeded, "promoted"; return st },
			verdict: fail,
			want:    Decision{Weights: map[int]int{2: 100}, Wait: waitIdle},
			verify: func(t *testing.T, st State) {
				if st.Status != StatusSucceeded || st.Verdict != nil {
					t.Errorf("status %q verdict %+v, want succeeded, untouched", st.Status, st.Verdict)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := spec.Canary{Steps: sixSteps, Analysis: spec.CanaryAnalysis{Inconclusive: spec.InconclusivePause}}
			if tt.incl != "" {
				c.Analysis.Inconclusive = tt.incl
			}
			st := running(1, 2)
			st.StepAt = t0
			st = tt.st(st)
			obs := Observation{Now: t0.Add(tt.now), Spec: spec.Service{Replicas: 2}, Verdict: tt.verdict,
				Instances: []Instance{ready("a", 1), ready("b", 1), ready("n1", 2)}}
			got, d := For(canaryOf(c))(st, obs)
			if diff := cmp.Diff(d, tt.want); diff != "" {
				t.Errorf("decision (-got +want):\n%s", diff)
			}
			tt.verify(t, got)
		})
	}
}
