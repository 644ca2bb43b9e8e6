package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deployN starts and finishes n deployments of web, each with a new revision.
func deployN(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		_, d, err := s.BeginDeployment(t.Context(), Service{Name: "web"},
			Revision{SpecHash: fmt.Sprint("h", i)}, Deployment{})
		if err != nil {
			t.Fatal(err)
		}
		finish(t, s, d)
	}
}

func revNumbers(t *testing.T, s *Store, service string) []int {
	t.Helper()
	revs, err := s.ListRevisions(t.Context(), service)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, r := range revs {
		out = append(out, r.Number)
	}
	return out
}

func TestListAndGetRevisions(t *testing.T) {
	s := openTest(t)
	deployN(t, s, 3)
	if diff := cmp.Diff(revNumbers(t, s, "web"), []int{3, 2, 1}); diff != "" {
		t.Errorf("ListRevisions(web) (-got +want):\n%s", diff)
	}
	if got := revNumbers(t, s, "api"); got != nil {
		t.Errorf("ListRevisions(api) = %v, want none", got)
	}
	r, err := s.GetRevision(t.Context(), "web", 2)
	if err != nil || r.SpecHash != "h1" {
		t.Errorf("GetRevision(web, 2) = %+v, %v; want hash h1", r, err)
	}
	if _, err := s.GetRevision(t.Context(), "web", 4); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRevision(web, 4) = %v, want ErrNotFound", err)
	}
}

func TestPruneRevisions(t *testing.T) {
	tests := []struct {
		name        string
		keep        int
		protect     []int
		stable      int
		wantRemoved []int
		wantLeft    []int
	}{
		{"keep 2", 2, nil, 0, []int{1, 2, 3, 4}, []int{6, 5}},
		{"keep all", 10, nil, 0, nil, []int{6, 5, 4, 3, 2, 1}},
		{"protected", 2, []int{1, 3}, 0, []int{2, 4}, []int{6, 5, 3, 1}},
		{"stable kept", 1, nil, 2, []int{1, 3, 4, 5}, []int{6, 2}},
		{"keep 0", 0, []int{6}, 0, []int{1, 2, 3, 4, 5}, []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			deployN(t, s, 6)
			if err := s.SetStable(t.Context(), "web", tt.stable); err != nil {
				t.Fatal(err)
			}
			removed, err := s.PruneRevisions(t.Context(), "web", tt.keep, tt.protect)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(removed, tt.wantRemoved); diff != "" {
				t.Errorf("removed (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(revNumbers(t, s, "web"), tt.wantLeft); diff != "" {
				t.Errorf("left (-got +want):\n%s", diff)
			}
		})
	}
}

func TestPruneKeepsActiveDeploymentRevisions(t *testing.T) {
	s := openTest(t)
	deployN(t, s, 3)
	if _, _, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{Number: 1}, Deployment{Kind: "rollback", From: 2}); err != nil {
		t.Fatal(err)
	}
	removed, err := s.PruneRevisions(t.Context(), "web", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(removed, []int{3}); diff != "" {
		t.Errorf("removed with a rollback 2→1 running (-got +want):\n%s", diff)
	}
	if _, err := s.PruneRevisions(t.Context(), "web", -1, nil); err == nil {
		t.Error("PruneRevisions with negative keep succeeded")
	}
}

func TestRevisionNumbersNeverReused(t *testing.T) {
	s := openTest(t)
	deployN(t, s, 3)
	if _, err := s.PruneRevisions(t.Context(), "web", 0, nil); err != nil {
		t.Fatal(err)
	}
	if got := revNumbers(t, s, "web"); got != nil {
		t.Fatalf("after pruning all: %v", got)
	}
	deployN(t, s, 1)
	if diff := cmp.Diff(revNumbers(t, s, "web"), []int{4}); diff != "" {
		t.Errorf("revision after pruning 1-3 (-got +want):\n%s", diff)
	}
	// Numbering is per service.
	rev, _, err := s.BeginDeployment(t.Context(), Service{Name: "api"}, Revision{}, Deployment{})
	if err != nil || rev.Number != 1 {
		t.Errorf("first api revision = %d, %v; want 1", rev.Number, err)
	}
}
