package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreStamps ignores the times the store sets itself.
var ignoreStamps = cmpopts.IgnoreFields(Service{}, "CreatedAt", "UpdatedAt")

func TestPutGetListServices(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	if err := s.PutService(ctx, Service{Name: "web", Spec: []byte(`{"v":1}`), CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutService(ctx, Service{Name: "api", Spec: []byte(`{"v":2}`)}); err != nil {
		t.Fatal(err)
	}
	// An upsert replaces Spec and Stable but keeps CreatedAt.
	if err := s.PutService(ctx, Service{Name: "web", Spec: []byte(`{"v":3}`), Stable: 4, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetService(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	want := Service{Name: "web", Spec: []byte(`{"v":3}`), Stable: 4, CreatedAt: created}
	if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(Service{}, "UpdatedAt")); diff != "" {
		t.Errorf("GetService(web) (-got +want):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("GetService(web) times = %v, %v; want UTC, updated after created", got.CreatedAt, got.UpdatedAt)
	}

	list, err := s.ListServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantList := []Service{{Name: "api", Spec: []byte(`{"v":2}`)}, want}
	if diff := cmp.Diff(list, wantList, ignoreStamps); diff != "" {
		t.Errorf("ListServices (-got +want):\n%s", diff)
	}
}

func TestServiceErrors(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if _, err := s.GetService(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetService(nope) = %v, want ErrNotFound", err)
	}
	if err := s.SetStable(ctx, "nope", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetStable(nope) = %v, want ErrNotFound", err)
	}
	if err := s.PutService(ctx, Service{}); err == nil {
		t.Error("PutService with no name succeeded")
	}
	list, err := s.ListServices(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("ListServices on empty store = %v, %v; want none", list, err)
	}
}

func TestSetStable(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	rev, d, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStable(ctx, "web", 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetStable(web, missing revision 2) = %v, want ErrNotFound", err)
	}
	if err := s.SetStable(ctx, "web", rev.Number); err != nil {
		t.Fatal(err)
	}
	// Starting another deployment must not reset the stable revision.
	d.Status = "succeeded"
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{}`)}, Revision{}, Deployment{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetService(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if got.Stable != rev.Number {
		t.Errorf("Stable after SetStable and a new deployment = %d, want %d", got.Stable, rev.Number)
	}
	if err := s.SetStable(ctx, "web", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetService(ctx, "web"); got.Stable != 0 {
		t.Errorf("Stable after SetStable(0) = %d, want 0", got.Stable)
	}
}

// TestDeleteService: the service, its revisions, deployments and instance records go; its
// events stay; a second delete is ErrNotFound.
func TestDeleteService(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if _, _, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Instances().Put(ctx, Instance{ID: "web-1", Service: "web", Revision: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddEvent(ctx, Event{Service: "web", Type: "deployment_started"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteService(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetService(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetService after delete = %v, want ErrNotFound", err)
	}
	if revs, err := s.ListRevisions(ctx, "web"); err != nil || len(revs) != 0 {
		t.Errorf("revisions after delete: %v, %v", revs, err)
	}
	if ins, err := s.Instances().List(ctx, "web"); err != nil || len(ins) != 0 {
		t.Errorf("instances after delete: %v, %v", ins, err)
	}
	if evs, err := s.ListEvents(ctx, EventFilter{Service: "web"}); err != nil || len(evs) != 1 {
		t.Errorf("events after delete: %d, %v; want the one kept", len(evs), err)
	}
	if err := s.DeleteService(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
}
