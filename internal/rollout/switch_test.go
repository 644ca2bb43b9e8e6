package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func TestSwitch(t *testing.T) {
	baseline := ready("b", 1)
	baseline.Baseline = true
	pending := State{Strategy: StrategySwitch, From: 2, To: 1, Replicas: 2, Status: StatusRunning, Phase: "pending", StartedAt: t0, LastProgressAt: t0}
	tests := []struct {
		name       string
		st         State
		ins        []Instance
		want       Decision
		wantStatus Status
		wantReason string
	}{
		{
			name: "warm: all traffic to it in one swap",
			st:   pending, ins: []Instance{ready("a", 1), ready("c", 1), ready("n1", 2), ready("n2", 2)},
			want: Decision{Weights: map[int]int{1: 100}}, wantStatus: StatusSucceeded,
		},
		{
			name: "one instance still starting: not warm, nothing moves",
			st:   pending, ins: []Instance{ready("a", 1), starting("c", 1), ready("n1", 2)},
			want: Decision{Wait: waitIdle}, wantStatus: StatusFailed, wantReason: "revision 1 is not warm: 1 of 2 instances ready",
		},
		{
			name: "a baseline instance of the revision does not count",
			st:   pending, ins: []Instance{ready("a", 1), baseline, ready("n1", 2)},
			want: Decision{Wait: waitIdle}, wantStatus: StatusFailed, wantReason: "revision 1 is not warm: 1 of 2 instances ready",
		},
		{
			name: "ready instances of another revision do not count",
			st:   pending, ins: []Instance{ready("a", 1), ready("z", 3), ready("n1", 2)},
			want: Decision{Wait: waitIdle}, wantStatus: StatusFailed, wantReason: "revision 1 is not warm: 1 of 2 instances ready",
		},
		{
			name: "already succeeded: traffic stays on To",
			st:   State{From: 2, To: 1, Replicas: 2, Status: StatusSucceeded},
			want: Decision{Weights: map[int]int{1: 100}, Wait: waitIdle}, wantStatus: StatusSucceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, got := Switch(tc.st, Observation{Now: t0, Instances: tc.ins})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if st.Status != tc.wantStatus || st.Reason != tc.wantReason {
				t.Errorf("state %s %q, want %s %q", st.Status, st.Reason, tc.wantStatus, tc.wantReason)
			}
			if tc.wantStatus == StatusSucceeded && tc.st.Status.Active() && (!st.SwitchedAt.Equal(t0) || st.Phase != phasePromoted) {
				t.Errorf("switched at %v phase %q, want %v %q", st.SwitchedAt, st.Phase, t0, phasePromoted)
			}
		})
	}
}

// switchWorld isolates Controller.Switch: it logs, in order, what the controller records
// and which traffic it sets.
type switchWorld struct {
	ins       []Instance
	recordErr error
	doneErr   error
	calls     []string
	events    []map[string]any
}

func (w *switchWorld) Observe(context.Context, string) ([]Instance, error) { return w.ins, nil }
func (w *switchWorld) Start(context.Context, string, int, int, int64, bool) error {
	return errors.New("a switch starts nothing")
}
func (w *switchWorld) Stop(context.Context, string, []string) error {
	return errors.New("a switch stops nothing")
}
func (w *switchWorld) SetWeights(_ context.Context, _ string, weights map[int]int, _ int) error {
	w.calls = append(w.calls, fmt.Sprint("weights ", weights))
	return nil
}
func (w *switchWorld) SaveState(context.Context, *Deployment) error {
	return errors.New("a switch is recorded by RecordSwitch")
}
func (w *switchWorld) Event(_ context.Context, _ *Deployment, typ, _ string, data map[string]any) {
	w.calls = append(w.calls, "event "+typ)
	w.events = append(w.events, data)
}
func (w *switchWorld) SwitchDone(_ context.Context, _ *Deployment, notes []Note) error {
	if w.doneErr != nil {
		return w.doneErr
	}
	for _, n := range notes {
		w.calls = append(w.calls, "done "+n.Type)
		w.events = append(w.events, n.Data)
	}
	return nil
}
func (w *switchWorld) RecordSwitch(_ context.Context, d *Deployment) error {
	if w.recordErr != nil {
		return w.recordErr
	}
	w.calls = append(w.calls, "record "+string(d.State.Status))
	d.ID = 9
	return nil
}

func switchController(w *switchWorld) *Controller {
	return NewController(w, w, w, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{})
}

func TestControllerSwitchRecordsBeforeMovingTraffic(t *testing.T) {
	w := &switchWorld{ins: []Instance{ready("a", 1), ready("c", 1), ready("n1", 2)}}
	s := spec.Service{Name: "web", Replicas: 2}
	d, err := switchController(w).Switch(t.Context(), w, s, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"record succeeded", "weights map[1:100]", "done deployment_succeeded", "done traffic_switched"}
	if !slices.Equal(w.calls, want) {
		t.Fatalf("calls %q, want the record, then the weights, then the rest with the switch's timing event", w.calls)
	}
	if d.ID != 9 || d.State.Status != StatusSucceeded || d.State.Strategy != StrategySwitch || d.State.From != 2 || d.State.To != 1 {
		t.Errorf("deployment %+v, want #9, a succeeded switch from 2 to 1", d)
	}
	if _, ok := w.events[1]["switch_us"]; !ok {
		t.Errorf("timing event data %v, want switch_us", w.events[1])
	}
}

func TestControllerSwitchRecordFailureMovesNothing(t *testing.T) {
	w := &switchWorld{ins: []Instance{ready("a", 1), ready("c", 1)}, recordErr: errors.New("disk full")}
	_, err := switchController(w).Switch(t.Context(), w, spec.Service{Name: "web", Replicas: 2}, 2, 1)
	if !errors.Is(err, w.recordErr) {
		t.Fatalf("switch with a failing record: %v, want its error", err)
	}
	if len(w.calls) != 0 {
		t.Errorf("calls %q after a failed record, want none: traffic must not move", w.calls)
	}
}

// TestControllerSwitchUnfinishedRecordIsNoSuccess: when the rest of the switch cannot be
// recorded after the swap, Switch says so, with the deployment it recorded.
func TestControllerSwitchUnfinishedRecordIsNoSuccess(t *testing.T) {
	w := &switchWorld{ins: []Instance{ready("a", 1), ready("c", 1)}, doneErr: errors.New("disk full")}
	d, err := switchController(w).Switch(t.Context(), w, spec.Service{Name: "web", Replicas: 2}, 2, 1)
	if !errors.Is(err, w.doneErr) || d == nil || d.ID != 9 {
		t.Fatalf("switch whose rest is not recorded: %+v, %v; want deployment 9 and the error", d, err)
	}
	if want := []string{"record succeeded", "weights map[1:100]"}; !slices.Equal(w.calls, want) {
		t.Errorf("calls %q, want %q", w.calls, want)
	}
}

func TestControllerSwitchNotWarm(t *testing.T) {
	w := &switchWorld{ins: []Instance{ready("a", 1), starting("c", 1)}}
	_, err := switchController(w).Switch(t.Context(), w, spec.Service{Name: "web", Replicas: 2}, 2, 1)
	if !errors.Is(err, ErrNotWarm) {
		t.Fatalf("switch to a revision with 1 of 2 ready: %v, want ErrNotWarm", err)
	}
	if len(w.calls) != 0 {
		t.Errorf("calls %q, want none", w.calls)
	}
}
