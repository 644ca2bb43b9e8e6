package kubestate

import (
	"errors"
	"testing"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

func TestDeploymentRecordRoundTripAndFencing(t *testing.T) {
	_, dyn, ns := clients(t)
	ctx := t.Context()
	store := NewDeployments(dyn, ns)
	sp := spec.Service{Name: "web"}
	sp.Run.Image = "cutover.test/demoapp:1"
	r := &Record{Service: "web", Kind: "deploy", Revision: 2, Spec: sp,
		State: rollout.State{Strategy: "canary", From: 1, To: 2, Replicas: 2, Status: rollout.StatusRunning, Phase: "starting"}}
	if err := store.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	r2 := &Record{Service: "web", Kind: "deploy", Revision: 3, Spec: sp, State: rollout.State{Status: rollout.StatusRunning}}
	if err := store.Create(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if r.ID != 1 || r2.ID != 2 {
		t.Fatalf("ids %d, %d; want 1, 2", r.ID, r2.ID)
	}
	got, err := store.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Phase != "starting" || got.Spec.Run.Image != sp.Run.Image || got.State.To != 2 {
		t.Fatalf("read back %+v", got)
	}

	// The leader of term 3 writes; an action recorded by an API replica meanwhile makes its
	// next write a conflict, which it resolves by reading again.
	got.Term, got.Holder = 3, "a"
	got.State.Step = 1
	if err := store.WriteStatus(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := store.AddAction(ctx, r.ID, Action{Action: "abort", Who: "ops"}); err != nil {
		t.Fatal(err)
	}
	got.State.Step = 2
	if err := store.WriteStatus(ctx, got); !errors.Is(err, ErrConflict) {
		t.Fatalf("write over a newer resourceVersion: %v, want ErrConflict", err)
	}
	fresh, err := store.Fence(ctx, r.ID, 3, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh.Actions) != 1 || fresh.Actions[0].Action != "abort" {
		t.Fatalf("actions %+v", fresh.Actions)
	}
	// A new leader (term 4) writes: the old one is fenced off.
	fresh.Term, fresh.Holder = 4, "b"
	if err := store.WriteStatus(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Fence(ctx, r.ID, 3, "a"); !errors.Is(err, ErrFenced) {
		t.Fatalf("old term after a new one wrote: %v, want ErrFenced", err)
	}

	// Finished deployments lose the active label.
	fresh.State.Status = rollout.StatusSucceeded
	if err := store.WriteStatus(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	active, err := store.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].ID != r2.ID {
		t.Fatalf("active %v, want only deployment %d", ids(active), r2.ID)
	}
}

func ids(rs []*Record) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
