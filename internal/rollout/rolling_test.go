package rollout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func count(n int) spec.IntOrPercent { return spec.IntOrPercent{Value: n} }
func pct(n int) spec.IntOrPercent   { return spec.IntOrPercent{Value: n, Percent: true} }

func rollingOf(r spec.Rolling) spec.Strategy {
	return spec.Strategy{Type: spec.TypeRolling, Rolling: &r}
}

var smokeHook = &spec.Hook{Command: "./smoke"}

func TestRollingLimits(t *testing.T) {
	tests := []struct {
		name                   string
		surge, unavailable     spec.IntOrPercent
		n                      int
		wantSurge, wantUnavail int
	}{
		{"counts", count(2), count(1), 4, 2, 1},
		{"25% of 4", pct(25), pct(25), 4, 1, 1},
		{"25% of 10 rounds surge up and unavailable down", pct(25), pct(25), 10, 3, 2},
		{"25% of 3", pct(25), pct(25), 3, 1, 0},
		{"both zero means surge 1", count(0), pct(0), 4, 1, 0},
		{"percent zero unavailable only", pct(0), count(1), 4, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRolling(&spec.Rolling{MaxSurge: tt.surge, MaxUnavailable: tt.unavailable})
			surge, unavail := r.limits(tt.n)
			if surge != tt.wantSurge || unavail != tt.wantUnavail {
				t.Errorf("limits(%d) = %d, %d; want %d, %d", tt.n, surge, unavail, tt.wantSurge, tt.wantUnavail)
			}
		})
	}
}

func TestRollingRun(t *testing.T) {
	crashReason := "instance r2-1 of revision 2 is crash-looping: exit status 1"
	tests := []struct {
		name       string
		rolling    spec.Rolling
		from, n    int
		to         behaviour
		smoke      string // the smoke hook's result; "" means no smoke hook
		setup      func(s *sim)
		wantStatus Status
		wantReason string
		wantReady  map[int]int // ready instances per revision at the end
		// Bounds while rolling forward: exactly reached, never crossed (0: not checked).
		maxTotal, minAvail int
		verify             func(t *testing.T, s *sim)
	}{
		{
			name: "N=4 surge 1 unavailable 0", rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0)},
			from: 1, n: 4, to: behaviour{readyAfter: 2 * time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 4}, maxTotal: 5, minAvail: 4,
		},
		{
			name: "N=4 surge 25% unavailable 25%", rolling: spec.Rolling{MaxSurge: pct(25), MaxUnavailable: pct(25)},
			from: 1, n: 4, to: behaviour{readyAfter: 2 * time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 4}, maxTotal: 5, minAvail: 3,
		},
		{
			name: "N=10 surge 25% unavailable 25% rounds 3 and 2", rolling: spec.Rolling{MaxSurge: pct(25), MaxUnavailable: pct(25)},
			from: 1, n: 10, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 10}, maxTotal: 13, minAvail: 8,
		},
		{
			name: "surge count 2 unavailable 0", rolling: spec.Rolling{MaxSurge: count(2), MaxUnavailable: count(0)},
			from: 1, n: 3, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3}, maxTotal: 5, minAvail: 3,
		},
		{
			name:    "min_ready keeps old until new has been ready long enough",
			rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0), MinReady: spec.Duration(5 * time.Second)},
			from:    1, n: 2, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2}, maxTotal: 3, minAvail: 2,
			verify: func(t *testing.T, s *sim) {
				if !hasWait(s, 5*time.Second) {
					t.Errorf("no decision waited the 5s of min_ready")
				}
			},
		},
		{
			name: "first deployment", rolling: spec.Rolling{MaxSurge: pct(25), MaxUnavailable: pct(0)},
			from: 0, n: 3, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3},
			verify: func(t *testing.T, s *sim) {
				want := Decision{Start: []StartOrder{{Revision: 2, Count: 3}}, Wait: waitStarting}
				if diff := cmp.Diff(s.steps[0].d, want); diff != "" {
					t.Errorf("first decision (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "crash-loop rolls back", rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0)},
			from: 1, n: 4, to: behaviour{crashAfter: 3 * time.Second},
			wantStatus: StatusRolledBack, wantReason: crashReason, wantReady: map[int]int{1: 4},
			maxTotal: 5, minAvail: 4,
		},
		{
			name:    "crash-loop with unavailable 25% restarts old",
			rolling: spec.Rolling{MaxSurge: pct(25), MaxUnavailable: pct(25)},
			from:    1, n: 4, to: behaviour{crashAfter: 3 * time.Second},
			wantStatus: StatusRolledBack, wantReason: crashReason, wantReady: map[int]int{1: 4},
			maxTotal: 5, minAvail: 3,
			verify: func(t *testing.T, s *sim) {
				if s.count[1] != 5 {
					t.Errorf("revision 1 instances ever = %d, want 5 (one stopped, one started again)", s.count[1])
				}
			},
		},
		{
			name:    "on_failure pause stops nothing",
			rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0), OnFailure: spec.OnFailurePause},
			from:    1, n: 4, to: behaviour{crashAfter: 3 * time.Second},
			wantStatus: StatusPaused, wantReason: crashReason, wantReady: map[int]int{1: 4},
			maxTotal: 5, minAvail: 4,
			verify: func(t *testing.T, s *sim) {
				last := s.steps[len(s.steps)-1]
				want := Decision{Wait: waitIdle}
				if diff := cmp.Diff(last.d, want); diff != "" {
					t.Errorf("pausing decision (-got +want):\n%s", diff)
				}
				if s.st.Phase != "paused: "+crashReason {
					t.Errorf("phase = %q", s.st.Phase)
				}
			},
		},
		{
			name:    "progress deadline",
			rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0), ProgressDeadline: spec.Duration(30 * time.Second)},
			from:    1, n: 4, to: behaviour{never: true},
			wantStatus: StatusRolledBack, wantReady: map[int]int{1: 4}, maxTotal: 5, minAvail: 4,
			wantReason: "revision 2 did not become ready within progress_deadline 30s (0/4 ready)",
			verify: func(t *testing.T, s *sim) {
				if d := s.now.Sub(t0); d <= 30*time.Second || d > 31*time.Second {
					t.Errorf("failed after %v, want just after 30s", d)
				}
			},
		},
		{
			name: "smoke passes before new instances get traffic", rolling: spec.Rolling{MaxSurge: count(1)},
			from: 1, n: 2, to: behaviour{readyAfter: time.Second}, smoke: "passed",
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2}, maxTotal: 3, minAvail: 2,
			verify: func(t *testing.T, s *sim) {
				if s.asked[HookSmoke] != 1 {
					t.Errorf("smoke asked %d times, want 1", s.asked[HookSmoke])
				}
				for _, step := range s.steps {
					if step.d.Hook == HookSmoke {
						want := Decision{Weights: map[int]int{1: 100}, Preview: 2, Hook: HookSmoke, Wait: waitIdle}
						if diff := cmp.Diff(step.d, want); diff != "" {
							t.Errorf("smoke decision (-got +want):\n%s", diff)
						}
						break
					}
					if !cmp.Equal(step.d.Weights, map[int]int{1: 100}) || len(step.d.Stop) > 0 {
						t.Errorf("before smoke at %v: weights %v, stop %v", step.at.Sub(t0), step.d.Weights, step.d.Stop)
					}
				}
			},
		},
		{
			name: "smoke fails rolls back", rolling: spec.Rolling{MaxSurge: count(1)},
			from: 1, n: 2, to: behaviour{readyAfter: time.Second}, smoke: "failed: exit status 2",
			wantStatus: StatusRolledBack, wantReason: "smoke hook failed: exit status 2",
			wantReady: map[int]int{1: 2}, maxTotal: 3, minAvail: 2,
			verify: func(t *testing.T, s *sim) {
				for _, step := range s.steps {
					if !cmp.Equal(step.d.Weights, map[int]int{1: 100}) {
						t.Errorf("at %v: weights %v, want all on revision 1", step.at.Sub(t0), step.d.Weights)
					}
				}
			},
		},
		{
			name: "abort mid-way", rolling: spec.Rolling{MaxSurge: count(1)},
			from: 1, n: 4, to: behaviour{readyAfter: time.Second},
			setup: func(s *sim) {
				s.before = func(s *sim) { s.st.AbortRequested = s.st.AbortRequested || s.st.Progress >= 2 }
			},
			wantStatus: StatusAborted, wantReason: "aborted by operator", wantReady: map[int]int{1: 4},
			maxTotal: 5, minAvail: 4,
		},
		{
			name: "leftover revisions stopped at once", rolling: spec.Rolling{MaxSurge: count(1)},
			from: 1, n: 2, to: behaviour{readyAfter: time.Second},
			setup:      func(s *sim) { s.add(7, 2, true) },
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 2},
			verify: func(t *testing.T, s *sim) {
				if diff := cmp.Diff(s.steps[0].d.Stop, []string{"r7-1", "r7-2"}); diff != "" {
					t.Errorf("first stop (-got +want):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, rollingOf(tt.rolling), tt.from, tt.n)
			s.behave[2] = tt.to
			if tt.smoke != "" {
				s.svc.Hooks.Smoke = smokeHook
				s.results[HookSmoke] = tt.smoke
			}
			if tt.setup != nil {
				tt.setup(s)
			}
			maxSeen, minSeen := checkBounds(s, tt.rolling.MinReady.D(), tt.maxTotal, tt.minAvail)
			s.run()
			assertEnd(t, s, tt.wantStatus, tt.wantReason, tt.wantReady)
			if tt.maxTotal > 0 && (*maxSeen != tt.maxTotal || *minSeen != tt.minAvail) {
				t.Errorf("while rolling: at most %d instances, at least %d available; want %d and %d",
					*maxSeen, *minSeen, tt.maxTotal, tt.minAvail)
			}
			if tt.verify != nil {
				tt.verify(t, s)
			}
		})
	}
}

// checkBounds asserts after every forward step that at most maxTotal instances exist and
// at least minAvail are available, and that something serves whenever From exists.
// It returns the extremes seen.
func checkBounds(s *sim, minReady time.Duration, maxTotal, minAvail int) (maxSeen, minSeen *int) {
	maxSeen, minSeen = new(int), new(int)
	*minSeen = 1 << 30
	s.check = func(s *sim, step simStep) {
		if s.st.From != 0 && serving(step.after, step.d.Weights) == 0 {
			s.t.Errorf("at %v: no instance serves (weights %v)", step.at.Sub(t0), step.d.Weights)
		}
		if maxTotal == 0 || step.st.RollingBack {
			return
		}
		total, avail := len(step.after), availableAll(step.after, step.at, minReady)
		*maxSeen, *minSeen = max(*maxSeen, total), min(*minSeen, avail)
		if total > maxTotal || avail < minAvail {
			s.t.Errorf("at %v: %d instances, %d available; want <= %d and >= %d",
				step.at.Sub(t0), total, avail, maxTotal, minAvail)
		}
	}
	return maxSeen, minSeen
}

// assertEnd checks the final status, reason and the ready instances per revision.
func assertEnd(t *testing.T, s *sim, status Status, reason string, ready map[int]int) {
	t.Helper()
	if s.st.Status != status || s.st.Reason != reason {
		t.Errorf("end: status %q reason %q; want %q, %q", s.st.Status, s.st.Reason, status, reason)
	}
	_, gotReady := revisions(s.insts)
	if diff := cmp.Diff(gotReady, ready); diff != "" {
		t.Errorf("ready instances per revision at the end (-got +want):\n%s", diff)
	}
	if status == StatusSucceeded && s.st.Phase != phasePromoted {
		t.Errorf("phase = %q, want promoted", s.st.Phase)
	}
}

func hasWait(s *sim, d time.Duration) bool {
	for _, step := range s.steps {
		if step.d.Wait == d {
			return true
		}
	}
	return false
}

// ready and starting build observed instances for single-step tests.
func ready(id string, rev int) Instance {
	return Instance{ID: id, Revision: rev, Ready: true, ReadySince: t0.Add(-time.Minute), StartedAt: t0.Add(-time.Minute)}
}

func starting(id string, rev int) Instance {
	return Instance{ID: id, Revision: rev, StartedAt: t0}
}

func running(from, replicas int) State {
	return State{From: from, To: 2, Replicas: replicas, Status: StatusRunning, StartedAt: t0, LastProgressAt: t0}
}

func TestRollingStep(t *testing.T) {
	surge1 := spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(0)}
	tests := []struct {
		name      string
		rolling   spec.Rolling
		st        State
		smoke     bool
		ins       []Instance
		want      Decision
		wantPhase string
	}{
		{
			name: "surge one", rolling: surge1, st: running(1, 2),
			ins:  []Instance{ready("a", 1), ready("b", 1)},
			want: Decision{Start: []StartOrder{{Revision: 2, Count: 1}}, Wait: waitStarting}, wantPhase: "starting",
		},
		{
			name: "one new available stops one old and starts the next", rolling: surge1, st: running(1, 2),
			ins:  []Instance{ready("a", 1), ready("b", 1), ready("n1", 2)},
			want: Decision{Start: startOrder(2, 1), Stop: []string{"a"}, Wait: waitStarting}, wantPhase: "rolling (1/2 new available)",
		},
		{
			name: "not-ready old goes first", rolling: spec.Rolling{MaxSurge: count(1), MaxUnavailable: count(1)},
			st:   running(1, 3),
			ins:  []Instance{ready("a", 1), starting("b", 1), ready("c", 1), ready("n1", 2)},
			want: Decision{Start: startOrder(2, 2), Stop: []string{"b", "a"}, Wait: waitStarting}, wantPhase: "rolling (1/3 new available)",
		},
		{
			name: "unhealthy old is cleaned up even below min available", rolling: surge1, st: running(1, 2),
			ins:  []Instance{ready("a", 1), starting("b", 1), ready("n1", 2)},
			want: Decision{Start: startOrder(2, 1), Stop: []string{"b"}, Wait: waitStarting}, wantPhase: "rolling (1/2 new available)",
		},
		{
			name: "all new available: promote and stop the rest", rolling: surge1, st: running(1, 2),
			ins:  []Instance{ready("a", 1), ready("n1", 2), ready("n2", 2)},
			want: Decision{Weights: map[int]int{2: 100}, Stop: []string{"a"}}, wantPhase: "promoted",
		},
		{
			name: "smoke asked once the first new instance is available", rolling: surge1, st: running(1, 2), smoke: true,
			ins:  []Instance{ready("a", 1), ready("b", 1), ready("n1", 2)},
			want: Decision{Weights: map[int]int{1: 100}, Preview: 2, Hook: HookSmoke, Wait: waitIdle}, wantPhase: "smoke",
		},
		{
			name: "leftover stopped first", rolling: surge1, st: running(1, 1),
			ins:  []Instance{ready("a", 1), ready("z", 9), starting("n1", 2)},
			want: Decision{Stop: []string{"z"}, Wait: waitStarting}, wantPhase: "starting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := Observation{Now: t0, Spec: spec.Service{Replicas: tt.st.Replicas}, Instances: tt.ins}
			if tt.smoke {
				obs.Spec.Hooks.Smoke = smokeHook
			}
			st, d := For(rollingOf(tt.rolling))(tt.st, obs)
			if diff := cmp.Diff(d, tt.want); diff != "" {
				t.Errorf("decision (-got +want):\n%s", diff)
			}
			if st.Phase != tt.wantPhase {
				t.Errorf("phase = %q, want %q", st.Phase, tt.wantPhase)
			}
		})
	}
}

func TestRollingPauseKeepsEverything(t *testing.T) {
	s := newSim(t, rollingOf(spec.Rolling{MaxSurge: count(1), ProgressDeadline: spec.Duration(10 * time.Second)}), 1, 3)
	s.behave[2] = behaviour{readyAfter: time.Second}
	s.stop = func(s *sim) bool { return s.st.Progress >= 1 }
	s.run()
	before := s.insts

	s.st.PauseRequested = true
	for i := range 30 { // 30s: far past the progress deadline
		s.now = s.now.Add(time.Second)
		step := s.call()
		if diff := cmp.Diff(step.d, Decision{Wait: waitIdle}); diff != "" {
			t.Fatalf("paused call %d (-got +want):\n%s", i, diff)
		}
		if step.st.Status != StatusPaused || step.st.Phase != "paused" {
			t.Fatalf("paused call %d: status %q phase %q", i, step.st.Status, step.st.Phase)
		}
	}
	if diff := cmp.Diff(s.insts, before); diff != "" {
		t.Errorf("instances changed while paused (-got +want):\n%s", diff)
	}

	// Resume as the controller does.
	s.st.Status, s.st.PauseRequested, s.st.LastProgressAt = StatusRunning, false, s.now
	s.stop = nil
	s.run()
	assertEnd(t, s, StatusSucceeded, "", map[int]int{2: 3})
}
