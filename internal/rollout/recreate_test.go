package rollout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func recreateOf(r spec.Recreate) spec.Strategy {
	return spec.Strategy{Type: spec.TypeRecreate, Recreate: &r}
}

func TestRecreateRun(t *testing.T) {
	tests := []struct {
		name       string
		rc         spec.Recreate
		from       int
		to         behaviour
		smoke      string
		wantStatus Status
		wantReason string
		wantReady  map[int]int
		wantFirst  []Decision // the first decisions, exactly
		verify     func(t *testing.T, s *sim)
	}{
		{
			name: "stop all, then start all", from: 1, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3},
			wantFirst: []Decision{
				{Stop: []string{"r1-1", "r1-2", "r1-3"}, Wait: waitStarting},
				{Start: []StartOrder{{Revision: 2, Count: 3}}, Wait: waitStarting},
			},
		},
		{
			name: "smoke before success", from: 1, to: behaviour{readyAfter: time.Second}, smoke: "passed",
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3},
			verify: func(t *testing.T, s *sim) {
				n := len(s.steps)
				want := Decision{Preview: 2, Hook: HookSmoke, Wait: waitIdle}
				if diff := cmp.Diff(s.steps[n-2].d, want); diff != "" {
					t.Errorf("step before success (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "crash-loop starts the old revision again", from: 1, to: behaviour{crashAfter: 2 * time.Second},
			wantStatus: StatusRolledBack, wantReason: "instance r2-1 of revision 2 is crash-looping: exit status 1",
			wantReady: map[int]int{1: 3},
			verify: func(t *testing.T, s *sim) {
				if s.count[1] != 6 {
					t.Errorf("revision 1 instances ever = %d, want 3 stopped and 3 started again", s.count[1])
				}
			},
		},
		{
			name: "progress deadline", from: 1, to: behaviour{never: true},
			rc:         spec.Recreate{ProgressDeadline: spec.Duration(time.Minute)},
			wantStatus: StatusRolledBack, wantReady: map[int]int{1: 3},
			wantReason: "revision 2 did not become ready within progress_deadline 1m0s (0/3 ready)",
		},
		{
			name: "smoke fails rolls back", from: 1, to: behaviour{readyAfter: time.Second}, smoke: "failed: timeout",
			wantStatus: StatusRolledBack, wantReason: "smoke hook failed: timeout", wantReady: map[int]int{1: 3},
		},
		{
			name: "first deployment starts at once", from: 0, to: behaviour{readyAfter: time.Second},
			wantStatus: StatusSucceeded, wantReady: map[int]int{2: 3},
			wantFirst: []Decision{{Start: []StartOrder{{Revision: 2, Count: 3}}, Wait: waitStarting}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, recreateOf(tt.rc), tt.from, 3)
			s.behave[2] = tt.to
			if tt.smoke != "" {
				s.svc.Hooks.Smoke = smokeHook
				s.results[HookSmoke] = tt.smoke
			}
			s.check = func(s *sim, step simStep) {
				all, _ := revisions(step.after)
				if !step.st.RollingBack && all[1] > 0 && all[2] > 0 {
					s.t.Errorf("at %v: old and new run together: %v", step.at.Sub(t0), all)
				}
			}
			s.run()
			assertEnd(t, s, tt.wantStatus, tt.wantReason, tt.wantReady)
			for i, want := range tt.wantFirst {
				if diff := cmp.Diff(s.steps[i].d, want); diff != "" {
					t.Errorf("decision %d (-got +want):\n%s", i, diff)
				}
			}
			if tt.verify != nil {
				tt.verify(t, s)
			}
		})
	}
}
