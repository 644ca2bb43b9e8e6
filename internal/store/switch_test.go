package store

import (
	"errors"
	"testing"
	"time"
)

// TestBeginSwitchRecordsTheSwitchAndTheStableRevision: a warm switch is a final deployment
// and the service's new stable revision and spec, in one transaction; refused with nothing
// changed while another deployment is active or when the revision is not in history.
func TestBeginSwitchRecordsTheSwitchAndTheStableRevision(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	_, d1, err := s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{"v":1}`)}, Revision{Spec: []byte(`{"v":1}`)}, Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	_, d2, err := s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{"v":2}`)}, Revision{Spec: []byte(`{"v":2}`)}, Deployment{})
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("second deployment while the first runs: %v, want a conflict", err)
	}
	sw := Deployment{Service: "web", Kind: "rollback", From: 2, To: 1, Strategy: "switch", Status: "succeeded",
		State: []byte(`{"to":1}`), FinishedAt: time.Now()}
	if _, err := s.BeginSwitch(ctx, sw, []byte(`{"v":1}`)); !errors.As(err, &conflict) {
		t.Fatalf("switch while deployment %d runs: %v, want a conflict", d1.ID, err)
	}
	finish(t, s, d1)
	if _, d2, err = s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{"v":2}`)}, Revision{Spec: []byte(`{"v":2}`)}, Deployment{From: 1}); err != nil {
		t.Fatal(err)
	}
	finish(t, s, d2)
	if err := s.SetStable(ctx, "web", 2); err != nil {
		t.Fatal(err)
	}
	missing := sw
	missing.To = 7
	if _, err := s.BeginSwitch(ctx, missing, []byte(`{"v":7}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("switch to a revision not in history: %v, want ErrNotFound", err)
	}
	if deps, _ := s.ListDeployments(ctx, "web", 0); len(deps) != 2 {
		t.Fatalf("%d deployments after two refused switches, want 2", len(deps))
	}
	got, err := s.BeginSwitch(ctx, sw, []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := s.GetService(ctx, "web")
	if err != nil || svc.Stable != 1 || string(svc.Spec) != `{"v":1}` {
		t.Errorf("service after the switch: stable %d spec %s (%v), want 1 and revision 1's spec", svc.Stable, svc.Spec, err)
	}
	rec, err := s.GetDeployment(ctx, got.ID)
	if err != nil || rec.Kind != "rollback" || rec.Status != "succeeded" || rec.From != 2 || rec.To != 1 || rec.FinishedAt.IsZero() {
		t.Errorf("switch recorded as %+v (%v), want a finished rollback from 2 to 1", rec, err)
	}
	if _, err := s.ActiveDeployment(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("active deployment after a switch: %v, want none", err)
	}
	// The switch's commit alone is relaxed: every later one is synced again.
	if got := pragma(t, s.w, "synchronous"); got != "2" {
		t.Errorf("PRAGMA synchronous after a switch = %q, want 2 (FULL)", got)
	}
}
