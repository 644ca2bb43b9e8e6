package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/cutover/cutover/internal/spec"
)

// fakeFleet and recordApplier isolate the Syncer in a unit test; the daemon's Kubernetes
// tests drive the real ones against a real apiserver.
type fakeFleet struct {
	specs   map[string]spec.Service
	weights map[int]int
}

func (f *fakeFleet) Specs() map[string]spec.Service                             { return f.specs }
func (f *fakeFleet) Weights(string) map[int]int                                 { return f.weights }
func (f *fakeFleet) SetWeights(context.Context, string, map[int]int, int) error { return nil }

type recordApplier struct {
	calls   [][]Backend
	targets []Target
	err     error
}

func (r *recordApplier) Apply(_ context.Context, t Target, b []Backend) error {
	r.calls = append(r.calls, b)
	r.targets = append(r.targets, t)
	return r.err
}

func gatewaySpec() spec.Service {
	s := spec.Service{Name: "web"}
	s.Run.Container = &spec.Container{Port: 9090}
	s.Route.Gateway = &spec.Gateway{HTTPRoute: "front"}
	return s
}

func TestSyncWritesOnChangeOnly(t *testing.T) {
	f := &fakeFleet{specs: map[string]spec.Service{"web": gatewaySpec(), "plain": {Name: "plain"}}, weights: map[int]int{1: 100}}
	a := &recordApplier{}
	s := NewSyncer(f, a, "shop", "own", slog.New(slog.NewTextHandler(io.Discard, nil)))
	tr := Traffic{Inner: f, Syncer: s}
	ctx := context.Background()
	if err := tr.SetWeights(ctx, "web", nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.SetWeights(ctx, "web", nil, 0); err != nil {
		t.Fatal(err)
	}
	f.weights = map[int]int{1: 90, 2: 10}
	if err := tr.SetWeights(ctx, "web", map[int]int{1: 90, 2: 10}, 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.SetWeights(ctx, "plain", nil, 0); err != nil {
		t.Fatal(err)
	}
	want := [][]Backend{{{1, "web-r1", 100}}, {{1, "web-r1", 90}, {2, "web-r2", 10}}}
	if !reflect.DeepEqual(a.calls, want) {
		t.Errorf("applied %v, want %v (once per change, nothing for a service without route.gateway)", a.calls, want)
	}
	wantT := Target{Service: "web", Namespace: "shop", Route: "front", RouteNamespace: "shop", Port: 9090, Owner: "own"}
	if a.targets[0] != wantT {
		t.Errorf("target %+v, want %+v", a.targets[0], wantT)
	}
}

func TestSyncErrorReachesTheController(t *testing.T) {
	f := &fakeFleet{specs: map[string]spec.Service{"web": gatewaySpec()}, weights: map[int]int{1: 100}}
	a := &recordApplier{err: errors.New(`httproute shop/front: not found`)}
	s := NewSyncer(f, a, "shop", "own", slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := Traffic{Inner: f, Syncer: s}.SetWeights(context.Background(), "web", nil, 0)
	if err == nil || err.Error() != a.err.Error() {
		t.Fatalf("SetWeights = %v, want the route's error", err)
	}
	a.err = nil
	if err := s.Sync(context.Background(), "web"); err != nil || len(a.calls) != 2 {
		t.Errorf("after a failed write the same backends must be written again: %v, %d calls", err, len(a.calls))
	}
}
