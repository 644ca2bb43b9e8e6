package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInstances(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ins := []Instance{
		{ID: "web-b", Service: "web", Revision: 1, DeploymentID: 1, Desired: "run", Addr: "127.0.0.1:4001", CreatedAt: t0},
		{ID: "web-a", Service: "web", Revision: 2, DeploymentID: 2, Desired: "run", Addr: "127.0.0.1:4002", CreatedAt: t0},
		{ID: "api-a", Service: "api", Revision: 1, Desired: "stop", CreatedAt: t0.Add(-time.Hour)},
		{ID: "web-c", Service: "web", Revision: 2, CreatedAt: t0.Add(time.Second)},
	}
	for _, in := range ins {
		if err := s.Instances().Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// An upsert replaces everything but CreatedAt.
	upd := ins[0]
	upd.Ready, upd.ReadySince, upd.RetireAt = true, t0.Add(5*time.Second), t0.Add(time.Minute)
	upd.Desired, upd.CreatedAt = "stop", t0.Add(time.Hour)
	if err := s.Instances().Put(ctx, upd); err != nil {
		t.Fatal(err)
	}
	upd.CreatedAt = t0
	got, err := s.Instances().Get(ctx, "web-b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, upd); diff != "" {
		t.Errorf("GetInstance(web-b) (-got +want):\n%s", diff)
	}

	ids := func(service string) []string {
		t.Helper()
		list, err := s.Instances().List(ctx, service)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range list {
			out = append(out, in.ID)
		}
		return out
	}
	if diff := cmp.Diff(ids("web"), []string{"web-a", "web-b", "web-c"}); diff != "" {
		t.Errorf("ListInstances(web) (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ids(""), []string{"api-a", "web-a", "web-b", "web-c"}); diff != "" {
		t.Errorf("ListInstances(all) (-got +want):\n%s", diff)
	}

	if err := s.Instances().Delete(ctx, "web-a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Instances().Delete(ctx, "web-a"); err != nil {
		t.Errorf("deleting a missing instance: %v", err)
	}
	if _, err := s.Instances().Get(ctx, "web-a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetInstance(web-a) after delete = %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff(ids("web"), []string{"web-b", "web-c"}); diff != "" {
		t.Errorf("ListInstances(web) after delete (-got +want):\n%s", diff)
	}
	if err := s.Instances().Put(ctx, Instance{Service: "web"}); err == nil {
		t.Error("PutInstance without ID succeeded")
	}
}

func TestPutInstanceDefaultsCreatedAt(t *testing.T) {
	s := openTest(t)
	before := time.Now()
	if err := s.Instances().Put(t.Context(), Instance{ID: "x"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Instances().Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.Before(before.Add(-time.Second)) || !got.ReadySince.IsZero() || !got.RetireAt.IsZero() {
		t.Errorf("defaults = %+v, want CreatedAt now and zero times", got)
	}
}
