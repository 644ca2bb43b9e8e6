package rollout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func blueGreenOf(b spec.BlueGreen) spec.Strategy {
	return spec.Strategy{Type: spec.TypeBlueGreen, BlueGreen: &b}
}

func TestBlueGreenRun(t *testing.T) {
	tests := []struct {
		name       string
		bg         spec.BlueGreen
		from       int
		green      behaviour
		smoke      string
		setup      func(s *sim)
		wantStatus Status
		wantReason string
		wantReady  map[int]int
		verify     func(t *testing.T, s *sim)
	}{
		{
			name: "switch once all green is available", from: 1, green: behaviour{readyAfter: 2 * time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{1: 3, 2: 3},
			verify: func(t *testing.T, s *sim) { assertOneSwitch(t, s, 1) },
		},
		{
			name: "min_ready delays the switch", from: 1, green: behaviour{readyAfter: time.Second},
			bg:         spec.BlueGreen{MinReady: spec.Duration(10 * time.Second)},
			wantStatus: StatusSucceeded, wantReady: map[int]int{1: 3, 2: 3},
			verify: func(t *testing.T, s *sim) {
				assertOneSwitch(t, s, 1)
				if got := s.st.SwitchedAt.Sub(t0); got != 11*time.Second {
					t.Errorf("switched after %v, want 11s", got)
				}
			},
		},
		{
			name: "smoke runs before the switch", from: 1, green: behaviour{readyAfter: time.Second}, smoke: "passed",
			wantStatus: StatusSucceeded, wantReady: map[int]int{1: 3, 2: 3},
			verify: func(t *testing.T, s *sim) {
				assertOneSwitch(t, s, 1)
				if s.asked[HookSmoke] != 1 {
					t.Errorf("smoke asked %d times, want 1", s.asked[HookSmoke])
				}
				n := len(s.steps)
				if s.steps[n-2].d.Hook != HookSmoke {
					t.Errorf("step before the switch = %+v, want the smoke hook", s.steps[n-2].d)
				}
			},
		},
		{
			name: "manual approval waits past the progress deadline", from: 1, green: behaviour{readyAfter: time.Second},
			bg: spec.BlueGreen{ManualApproval: true, ProgressDeadline: spec.Duration(30 * time.Second)},
			setup: func(s *sim) {
				s.before = func(s *sim) {
					if s.now.Sub(t0) >= 5*time.Minute {
						s.st.Approved = true
					}
				}
			},
			wantStatus: StatusSucceeded, wantReady: map[int]int{1: 3, 2: 3},
			verify: func(t *testing.T, s *sim) {
				assertOneSwitch(t, s, 1)
				if got := s.st.SwitchedAt.Sub(t0); got < 5*time.Minute || got > 5*time.Minute+time.Second {
					t.Errorf("switched after %v, want at the approval after 5m", got)
				}
				prev := s.steps[len(s.steps)-2]
				if prev.st.Phase != "awaiting approval" || prev.st.Status != StatusRunning {
					t.Errorf("before approval: status %q phase %q", prev.st.Status, prev.st.Phase)
				}
			},
		},
		{
			name: "green crash-loops: green stopped, blue untouched", from: 1, green: behaviour{crashAfter: time.Second},
			wantStatus: StatusRolledBack, wantReason: "instance r2-1 of revision 2 is crash-looping: exit status 1",
			wantReady: map[int]int{1: 3},
			verify: func(t *testing.T, s *sim) {
				if s.count[1] != 3 {
					t.Errorf("blue instances ever = %d, want 3", s.count[1])
				}
				all, _ := revisions(s.insts)
				if all[2] != 0 {
					t.Errorf("%d green instances left", all[2])
				}
			},
		},
		{
			name: "smoke fails: no switch", from: 1, green: behaviour{readyAfter: time.Second}, smoke: "failed: 500 on /",
			wantStatus: StatusRolledBack, wantReason: "smoke hook failed: 500 on /", wantReady: map[int]int{1: 3},
			verify: func(t *testing.T, s *sim) { assertOneSwitch(t, s, 0) },
		},
		{
			name: "first deployment", from: 0, green: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3},
			verify: func(t *testing.T, s *sim) {
				want := Decision{Start: []StartOrder{{Revision: 2, Count: 3}}, Preview: 2, Wait: waitStarting}
				if diff := cmp.Diff(s.steps[0].d, want); diff != "" {
					t.Errorf("first decision (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "leftovers stopped", from: 1, green: behaviour{readyAfter: time.Second},
			setup:      func(s *sim) { s.add(5, 1, true) },
			wantStatus: StatusSucceeded, wantReady: map[int]int{1: 3, 2: 3},
			verify: func(t *testing.T, s *sim) {
				if diff := cmp.Diff(s.steps[0].d.Stop, []string{"r5-1"}); diff != "" {
					t.Errorf("first stop (-got +want):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, blueGreenOf(tt.bg), tt.from, 3)
			s.behave[2] = tt.green
			if tt.smoke != "" {
				s.svc.Hooks.Smoke = smokeHook
				s.results[HookSmoke] = tt.smoke
			}
			if tt.setup != nil {
				tt.setup(s)
			}
			s.run()
			assertEnd(t, s, tt.wantStatus, tt.wantReason, tt.wantReady)
			if tt.verify != nil {
				tt.verify(t, s)
			}
		})
	}
}

// assertOneSwitch checks that blue kept all traffic and green the preview until a single
// switch (switches is 0 or 1), that green started all at once and blue was never stopped.
func assertOneSwitch(t *testing.T, s *sim, switches int) {
	t.Helper()
	got, starts := 0, 0
	for _, step := range s.steps {
		starts += len(step.d.Start)
		for _, id := range step.d.Stop {
			if id[:2] == "r1" {
				t.Errorf("at %v: blue instance %s stopped", step.at.Sub(t0), id)
			}
		}
		if cmp.Equal(step.d.Weights, map[int]int{2: 100}) {
			got++
			if step.st.SwitchedAt != step.at || step.st.Status != StatusSucceeded {
				t.Errorf("switch at %v: state %+v", step.at.Sub(t0), step.st)
			}
			_, ready := revisions(step.after)
			if ready[2] != 3 {
				t.Errorf("switch at %v with %d green ready, want 3", step.at.Sub(t0), ready[2])
			}
			continue
		}
		if !cmp.Equal(step.d.Weights, map[int]int{1: 100}) {
			t.Errorf("at %v: weights %v before the switch, want all on blue", step.at.Sub(t0), step.d.Weights)
		}
		if !step.st.RollingBack && step.d.Preview != 2 {
			t.Errorf("at %v: preview %d, want green", step.at.Sub(t0), step.d.Preview)
		}
	}
	if got != switches || starts != 1 {
		t.Errorf("%d switches and %d start orders, want %d and 1", got, starts, switches)
	}
}

func TestBlueGreenPauseKeepsTraffic(t *testing.T) {
	st := running(1, 2)
	st.PauseRequested = true
	obs := Observation{Now: t0, Spec: spec.Service{Replicas: 2},
		Instances: []Instance{ready("a", 1), ready("b", 1), starting("g1", 2), ready("x", 9)}}
	got, d := For(blueGreenOf(spec.BlueGreen{}))(st, obs)
	want := Decision{Weights: map[int]int{1: 100}, Preview: 2, Wait: waitIdle}
	if diff := cmp.Diff(d, want); diff != "" {
		t.Errorf("paused decision (-got +want):\n%s", diff)
	}
	if got.Status != StatusPaused || got.Phase != "paused" {
		t.Errorf("status %q phase %q, want paused", got.Status, got.Phase)
	}
}
