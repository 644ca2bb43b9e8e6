package store

import (
	"errors"
	"fmt"
	"testing"
)

// BeginDeploymentThen commits the revision, the deployment and what then writes (its state
// naming the revision, its first event) together, or none of them.
func TestBeginDeploymentThenIsOneCommit(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	boom := errors.New("then failed")
	_, _, err := s.BeginDeploymentThen(ctx, Service{Name: "web"}, Revision{}, Deployment{},
		func(tx *Store, rev Revision, d *Deployment) error {
			if _, err := tx.AddEvent(ctx, Event{Service: "web", DeploymentID: d.ID, Type: "deployment_started"}); err != nil {
				return err
			}
			return boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("BeginDeploymentThen: %v, want then's error", err)
	}
	if deps, _ := s.ListDeployments(ctx, "web", 0); len(deps) != 0 {
		t.Fatalf("%d deployments after a failed then, want none", len(deps))
	}
	if evs, _ := s.ListEvents(ctx, EventFilter{Service: "web"}); len(evs) != 0 {
		t.Fatalf("%d events after a failed then, want none", len(evs))
	}
	rev, d, err := s.BeginDeploymentThen(ctx, Service{Name: "web"}, Revision{}, Deployment{},
		func(tx *Store, rev Revision, d *Deployment) error {
			d.State = fmt.Appendf(nil, `{"to":%d}`, rev.Number)
			if err := tx.UpdateDeployment(ctx, *d); err != nil {
				return err
			}
			_, err := tx.AddEvent(ctx, Event{Service: "web", DeploymentID: d.ID, Type: "deployment_started"})
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Number != 1 {
		t.Errorf("revision %d after a failed begin, want 1 (no number consumed)", rev.Number)
	}
	got, err := s.GetDeployment(ctx, d.ID)
	if err != nil || string(got.State) != `{"to":1}` || string(d.State) != `{"to":1}` {
		t.Errorf("deployment state %s (returned %s), %v; want then's", got.State, d.State, err)
	}
	if evs, _ := s.ListEvents(ctx, EventFilter{DeploymentID: d.ID}); len(evs) != 1 {
		t.Errorf("%d events of the deployment, want then's one", len(evs))
	}
}

// PutBeforeStart records a batch of instances in one commit that does not wait for the
// disk; the store's later commits are synced again.
func TestPutBeforeStart(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	ins := []Instance{{ID: "web-2-a", Service: "web", Revision: 2, Desired: "run"}, {ID: "web-2-b", Service: "web", Revision: 2, Desired: "run"}}
	if err := s.Instances().PutBeforeStart(ctx, ins); err != nil {
		t.Fatal(err)
	}
	got, err := s.Instances().List(ctx, "web")
	if err != nil || len(got) != 2 {
		t.Fatalf("instances after PutBeforeStart: %+v (%v), want both", got, err)
	}
	if err := s.Instances().PutBeforeStart(ctx, []Instance{{ID: "web-2-c", Service: "web"}, {ID: ""}}); err == nil {
		t.Fatal("PutBeforeStart with an empty id succeeded")
	}
	if got, _ := s.Instances().List(ctx, "web"); len(got) != 2 {
		t.Errorf("%d instances after a refused batch, want 2 (none of the batch)", len(got))
	}
	if got := pragma(t, s.w, "synchronous"); got != "2" {
		t.Errorf("PRAGMA synchronous after PutBeforeStart = %q, want 2 (FULL)", got)
	}
}
