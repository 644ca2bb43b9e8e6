package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBeginDeploymentNewRevision(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	before := time.Now()
	rev, d, err := s.BeginDeployment(ctx,
		Service{Name: "web", Spec: []byte(`{"image":"a"}`)},
		Revision{Spec: []byte(`{"image":"a"}`), SpecHash: "h1", CreatedBy: "ann", Message: "first"},
		Deployment{Strategy: "rolling", State: []byte(`{"step":0}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantRev := Revision{Service: "web", Number: 1, Spec: []byte(`{"image":"a"}`), SpecHash: "h1", CreatedBy: "ann", Message: "first"}
	if diff := cmp.Diff(rev, wantRev, cmpopts.IgnoreFields(Revision{}, "CreatedAt")); diff != "" {
		t.Errorf("BeginDeployment revision (-got +want):\n%s", diff)
	}
	if rev.CreatedAt.Before(before.Add(-time.Second)) || rev.CreatedAt.Location() != time.UTC {
		t.Errorf("revision CreatedAt = %v, want now in UTC", rev.CreatedAt)
	}
	wantD := Deployment{ID: d.ID, Service: "web", Kind: "deploy", To: 1, Strategy: "rolling", Status: "running",
		State: []byte(`{"step":0}`), CreatedAt: d.CreatedAt, UpdatedAt: d.CreatedAt}
	if diff := cmp.Diff(d, wantD); diff != "" || d.ID == 0 || d.CreatedAt.IsZero() {
		t.Errorf("BeginDeployment deployment (-got +want):\n%s", diff)
	}
	for name, got := range map[string]func() (any, error){
		"GetRevision":   func() (any, error) { return s.GetRevision(ctx, "web", 1) },
		"GetDeployment": func() (any, error) { return s.GetDeployment(ctx, d.ID) },
	} {
		v, err := got()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want any = rev
		if _, ok := v.(Deployment); ok {
			want = d
		}
		if diff := cmp.Diff(v, want); diff != "" {
			t.Errorf("%s after BeginDeployment (-got +want):\n%s", name, diff)
		}
	}
}

func TestBeginDeploymentExistingRevision(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	r1, d1, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{SpecHash: "h1"}, Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	finish(t, s, d1)
	if _, _, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{Number: 7}, Deployment{Kind: "rollback"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("BeginDeployment to missing revision 7 = %v, want ErrNotFound", err)
	}
	rev, d, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{Number: 1, SpecHash: "ignored"}, Deployment{Kind: "rollback", From: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rev, r1); diff != "" {
		t.Errorf("revision of a rollback (-got +want):\n%s", diff)
	}
	if d.Kind != "rollback" || d.To != 1 || d.From != 1 || d.ID <= d1.ID {
		t.Errorf("rollback deployment = %+v", d)
	}
	revs, err := s.ListRevisions(ctx, "web")
	if err != nil || len(revs) != 1 {
		t.Errorf("ListRevisions after a rollback = %v, %v; want only revision 1", revs, err)
	}
}

// finish marks d succeeded so that the service can start another deployment.
func finish(t *testing.T, s *Store, d Deployment) {
	t.Helper()
	d.Status, d.FinishedAt = "succeeded", time.Now()
	if err := s.UpdateDeployment(t.Context(), d); err != nil {
		t.Fatal(err)
	}
}

func TestBeginDeploymentConflictChangesNothing(t *testing.T) {
	for _, status := range []string{"running", "paused"} {
		t.Run(status, func(t *testing.T) {
			s := openTest(t)
			ctx := t.Context()
			_, d, err := s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{"v":1}`)}, Revision{}, Deployment{Status: status})
			if err != nil {
				t.Fatal(err)
			}
			svcBefore, _ := s.GetService(ctx, "web")
			_, _, err = s.BeginDeployment(ctx, Service{Name: "web", Spec: []byte(`{"v":2}`)}, Revision{}, Deployment{})
			var conflict *ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("second BeginDeployment = %v, want *ConflictError", err)
			}
			want := &ConflictError{Service: "web", DeploymentID: d.ID, Status: status}
			if diff := cmp.Diff(conflict, want); diff != "" {
				t.Errorf("conflict (-got +want):\n%s", diff)
			}
			if got, want := conflict.Error(), "service web has deployment 1 "+status; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
			svcAfter, _ := s.GetService(ctx, "web")
			if diff := cmp.Diff(svcAfter, svcBefore); diff != "" {
				t.Errorf("service changed by a refused deployment (-got +want):\n%s", diff)
			}
			revs, _ := s.ListRevisions(ctx, "web")
			deps, _ := s.ListDeployments(ctx, "web", 0)
			if len(revs) != 1 || len(deps) != 1 {
				t.Errorf("after conflict: %d revisions, %d deployments; want 1, 1", len(revs), len(deps))
			}
			// The refused attempt consumed no revision number.
			finish(t, s, d)
			rev, _, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{})
			if err != nil || rev.Number != 2 {
				t.Errorf("next revision = %d, %v; want 2", rev.Number, err)
			}
		})
	}
}

func TestBeginDeploymentRejectsMismatchedService(t *testing.T) {
	s := openTest(t)
	for name, call := range map[string]func() error{
		"revision": func() error {
			_, _, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{Service: "api"}, Deployment{})
			return err
		},
		"deployment": func() error {
			_, _, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{}, Deployment{Service: "api"})
			return err
		},
		"no name": func() error {
			_, _, err := s.BeginDeployment(t.Context(), Service{}, Revision{}, Deployment{})
			return err
		},
	} {
		if err := call(); err == nil {
			t.Errorf("BeginDeployment with mismatched %s succeeded", name)
		}
	}
	if svcs, _ := s.ListServices(t.Context()); len(svcs) != 0 {
		t.Errorf("services after refused deployments = %v, want none", svcs)
	}
}

func TestUpdateDeployment(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	_, d, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{Strategy: "canary"})
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	upd := d
	upd.Status, upd.State, upd.Reason, upd.FinishedAt = "failed", []byte(`{"phase":"abort"}`), "analysis failed", finished
	upd.Kind, upd.Service = "ignored", "ignored" // never change
	if err := s.UpdateDeployment(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := d
	want.Status, want.State, want.Reason, want.FinishedAt = "failed", []byte(`{"phase":"abort"}`), "analysis failed", finished
	if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(Deployment{}, "UpdatedAt")); diff != "" {
		t.Errorf("GetDeployment after update (-got +want):\n%s", diff)
	}
	if got.UpdatedAt.Before(d.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v before %v", got.UpdatedAt, d.UpdatedAt)
	}
	if err := s.UpdateDeployment(ctx, Deployment{ID: 999}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateDeployment(999) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetDeployment(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDeployment(999) = %v, want ErrNotFound", err)
	}
}

func TestSecondActiveDeploymentRefusedByUpdate(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	_, d1, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	finish(t, s, d1)
	if _, _, err := s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{}); err != nil {
		t.Fatal(err)
	}
	d1.Status = "paused"
	if err := s.UpdateDeployment(ctx, d1); err == nil {
		t.Error("reactivating an old deployment next to an active one succeeded")
	}
}

func TestActiveAndListDeployments(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	begin := func(name string) Deployment {
		t.Helper()
		_, d, err := s.BeginDeployment(ctx, Service{Name: name}, Revision{}, Deployment{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	web1 := begin("web")
	finish(t, s, web1)
	web2, api1 := begin("web"), begin("api")
	api1.Status = "paused"
	if err := s.UpdateDeployment(ctx, api1); err != nil {
		t.Fatal(err)
	}
	ids := func(ds []Deployment, err error) []int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	active, err := s.ActiveDeployment(ctx, "web")
	if err != nil || active.ID != web2.ID {
		t.Errorf("ActiveDeployment(web) = %d, %v; want %d", active.ID, err, web2.ID)
	}
	if _, err := s.ActiveDeployment(ctx, "db"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ActiveDeployment(db) = %v, want ErrNotFound", err)
	}
	for name, tc := range map[string]struct{ got, want []int64 }{
		"active": {ids(s.ActiveDeployments(ctx)), []int64{web2.ID, api1.ID}},
		"all":    {ids(s.ListDeployments(ctx, "", 0)), []int64{api1.ID, web2.ID, web1.ID}},
		"all 2":  {ids(s.ListDeployments(ctx, "", 2)), []int64{api1.ID, web2.ID}},
		"web":    {ids(s.ListDeployments(ctx, "web", 0)), []int64{web2.ID, web1.ID}},
		"web 1":  {ids(s.ListDeployments(ctx, "web", 1)), []int64{web2.ID}},
		"none":   {ids(s.ListDeployments(ctx, "db", 0)), nil},
	} {
		if diff := cmp.Diff(tc.got, tc.want); diff != "" {
			t.Errorf("%s deployments (-got +want):\n%s", name, diff)
		}
	}
}
