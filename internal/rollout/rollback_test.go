package rollout

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func TestRollback(t *testing.T) {
	failed := Instance{ID: "f", Revision: 1, Failed: true, Message: "exit 2"}
	looping := Instance{ID: "l", Revision: 1, CrashLoop: true}
	tests := []struct {
		name       string
		from       int
		abort      bool
		ins        []Instance
		want       Decision
		wantStatus Status
		wantPhase  string
	}{
		{
			name: "nothing of From yet: start it, traffic stays where it is", from: 1,
			ins:        []Instance{ready("n1", 2), ready("n2", 2)},
			want:       Decision{Start: []StartOrder{{Revision: 1, Count: 3}}, Wait: waitStarting},
			wantStatus: StatusRunning, wantPhase: "rolling back",
		},
		{
			name: "one From ready: all traffic to it, keep the rest", from: 1,
			ins:        []Instance{ready("a", 1), starting("b", 1), starting("c", 1), ready("n1", 2)},
			want:       Decision{Weights: map[int]int{1: 100}, Wait: waitStarting},
			wantStatus: StatusRunning, wantPhase: "rolling back",
		},
		{
			name: "From whole again: stop every new instance", from: 1,
			ins:        []Instance{ready("a", 1), ready("b", 1), ready("c", 1), ready("n1", 2), starting("n2", 2), ready("z", 4)},
			want:       Decision{Weights: map[int]int{1: 100}, Stop: []string{"z", "n1", "n2"}},
			wantStatus: StatusRolledBack, wantPhase: "rolled back",
		},
		{
			name: "aborted", from: 1, abort: true,
			ins:        []Instance{ready("a", 1), ready("b", 1), ready("c", 1), ready("n1", 2)},
			want:       Decision{Weights: map[int]int{1: 100}, Stop: []string{"n1"}},
			wantStatus: StatusAborted, wantPhase: "rolled back",
		},
		{
			name: "first deployment: just stop the new instances", from: 0,
			ins:        []Instance{ready("n1", 2), starting("n2", 2)},
			want:       Decision{Stop: []string{"n1", "n2"}},
			wantStatus: StatusRolledBack, wantPhase: "rolled back",
		},
		{
			name: "failed From instance is replaced", from: 1,
			ins:        []Instance{ready("a", 1), ready("b", 1), failed, ready("n1", 2)},
			want:       Decision{Start: []StartOrder{{Revision: 1, Count: 1}}, Weights: map[int]int{1: 100}, Stop: []string{"f", "n1"}},
			wantStatus: StatusRolledBack, wantPhase: "rolled back",
		},
		{
			name: "From crash-looping, none ready: keep the new instances serving", from: 1,
			ins:        []Instance{looping, starting("b", 1), starting("c", 1), ready("n1", 2)},
			want:       Decision{Wait: waitStarting},
			wantStatus: StatusRunning, wantPhase: "rolling back",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := running(tt.from, 3)
			st.RollingBack, st.AbortRequested, st.Reason = true, tt.abort, "some reason"
			obs := Observation{Now: t0, Spec: spec.Service{Replicas: 3}, Instances: tt.ins}
			for _, typ := range []string{spec.TypeRolling, spec.TypeBlueGreen, spec.TypeRecreate} {
				got, d := For(spec.Strategy{Type: typ})(st, obs)
				if diff := cmp.Diff(d, tt.want); diff != "" {
					t.Errorf("%s: decision (-got +want):\n%s", typ, diff)
				}
				if got.Status != tt.wantStatus || got.Phase != tt.wantPhase || got.Reason != "some reason" {
					t.Errorf("%s: status %q phase %q reason %q; want %q, %q, the same reason",
						typ, got.Status, got.Phase, got.Reason, tt.wantStatus, tt.wantPhase)
				}
			}
		})
	}
}
