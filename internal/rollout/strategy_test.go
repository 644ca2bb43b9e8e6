package rollout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func TestForFailsAtOnce(t *testing.T) {
	tests := []struct {
		name       string
		strategy   spec.Strategy
		from       int
		wantReason string
		want       Decision
	}{
		{"unknown type", spec.Strategy{Type: "linear"}, 0, `unknown strategy type "linear"`,
			Decision{Wait: waitIdle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := Observation{Now: t0, Instances: []Instance{ready("a", 1)}}
			st, d := For(tt.strategy)(running(tt.from, 1), obs)
			if st.Status != StatusFailed || st.Reason != tt.wantReason {
				t.Errorf("status %q reason %q; want failed, %q", st.Status, st.Reason, tt.wantReason)
			}
			if diff := cmp.Diff(d, tt.want); diff != "" {
				t.Errorf("decision (-got +want):\n%s", diff)
			}
		})
	}
}

// TestSharedRules checks the rules every strategy applies before its own step.
func TestSharedRules(t *testing.T) {
	types := []string{"", spec.TypeRolling, spec.TypeBlueGreen, spec.TypeRecreate, spec.TypeCanary}
	tests := []struct {
		name   string
		st     func() State
		ins    []Instance
		now    time.Time
		verify func(t *testing.T, st State, d Decision)
	}{
		{
			name: "final status changes nothing",
			st:   func() State { s := running(1, 1); s.Status = StatusSucceeded; s.Phase = "promoted"; return s },
			ins:  []Instance{ready("a", 1), ready("n", 2)},
			verify: func(t *testing.T, st State, d Decision) {
				if st.Status != StatusSucceeded || !cmp.Equal(d, Decision{Weights: map[int]int{2: 100}, Wait: waitIdle}) {
					t.Errorf("got %q, %+v", st.Status, d)
				}
			},
		},
		{
			name: "abort while paused rolls back",
			st:   func() State { s := running(1, 1); s.Status = StatusPaused; s.AbortRequested = true; return s },
			ins:  []Instance{ready("a", 1), ready("n", 2)},
			verify: func(t *testing.T, st State, d Decision) {
				if st.Status != StatusAborted || !st.RollingBack || st.Reason != "aborted by operator" {
					t.Errorf("got status %q rolling back %v reason %q", st.Status, st.RollingBack, st.Reason)
				}
				if diff := cmp.Diff(d.Stop, []string{"n"}); diff != "" {
					t.Errorf("stop (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "failed instance is a failure with its message",
			st:   func() State { return running(1, 1) },
			ins:  []Instance{ready("a", 1), {ID: "n", Revision: 2, Failed: true, Message: "exec: not found"}},
			verify: func(t *testing.T, st State, d Decision) {
				if want := "instance n of revision 2 failed: exec: not found"; st.Reason != want || !st.RollingBack {
					t.Errorf("reason %q rolling back %v, want %q", st.Reason, st.RollingBack, want)
				}
			},
		},
		{
			name: "a paused failure keeps its phase",
			st: func() State {
				s := running(1, 1)
				s.Status, s.Reason, s.Phase = StatusPaused, "x", "paused: x"
				return s
			},
			ins: []Instance{ready("a", 1), {ID: "n", Revision: 2, CrashLoop: true}, ready("z", 3)},
			verify: func(t *testing.T, st State, d Decision) {
				if st.Status != StatusPaused || st.Phase != "paused: x" || len(d.Stop)+len(d.Start) > 0 {
					t.Errorf("got status %q phase %q decision %+v", st.Status, st.Phase, d)
				}
			},
		},
		{
			name: "progress moves the deadline clock",
			st:   func() State { return running(1, 2) },
			now:  t0.Add(time.Hour),
			ins:  []Instance{ready("a", 1), ready("b", 1), ready("n", 2)},
			verify: func(t *testing.T, st State, d Decision) {
				if st.Progress != 1 || !st.LastProgressAt.Equal(t0.Add(time.Hour)) || st.RollingBack {
					t.Errorf("progress %d at %v, rolling back %v", st.Progress, st.LastProgressAt, st.RollingBack)
				}
			},
		},
		{
			name: "no progress past the default deadline fails",
			st:   func() State { return running(1, 2) },
			now:  t0.Add(DefaultProgressDeadline + time.Second),
			ins:  []Instance{ready("a", 1), ready("b", 1), starting("n", 2)},
			verify: func(t *testing.T, st State, d Decision) {
				want := "revision 2 did not become ready within progress_deadline 10m0s (0/2 ready)"
				if st.Reason != want || !st.RollingBack {
					t.Errorf("reason %q rolling back %v, want %q", st.Reason, st.RollingBack, want)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, typ := range types {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				now := tt.now
				if now.IsZero() {
					now = t0
				}
				obs := Observation{Now: now, Spec: spec.Service{Replicas: 2}, Instances: tt.ins}
				st, d := For(spec.Strategy{Type: typ})(tt.st(), obs)
				tt.verify(t, st, d)
			})
		}
	}
}

func TestSmokeNeverAskedTwice(t *testing.T) {
	ins := []Instance{ready("n1", 2), ready("n2", 2)}
	for _, typ := range []string{spec.TypeRolling, spec.TypeBlueGreen, spec.TypeRecreate, spec.TypeCanary} {
		t.Run(typ, func(t *testing.T) {
			obs := Observation{Now: t0, Spec: spec.Service{Replicas: 2, Hooks: spec.Hooks{Smoke: smokeHook}}, Instances: ins}
			next := For(spec.Strategy{Type: typ})
			st, d := next(running(0, 2), obs)
			if d.Hook != HookSmoke || st.Phase != phaseSmoke {
				t.Fatalf("first call: hook %q phase %q, want the smoke hook", d.Hook, st.Phase)
			}
			// The result has not arrived yet: wait for it, do not ask again.
			st, d = next(st, obs)
			if d.Hook != "" || st.Status != StatusRunning || st.Phase != phaseSmoke {
				t.Errorf("second call: hook %q status %q phase %q; want no hook, still in smoke", d.Hook, st.Status, st.Phase)
			}
			st.Hooks = map[string]string{HookSmoke: "passed"}
			if st, d = next(st, obs); d.Hook != "" || st.Status != StatusSucceeded {
				t.Errorf("after the result: hook %q status %q; want success", d.Hook, st.Status)
			}
		})
	}
}
