package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// recordingRuntime isolates the fleet from real processes in its unit tests: Start checks
// that each instance is already recorded, then fails when told to.
type recordingRuntime struct {
	runtime.Driver // nil: any other call panics
	store          *store.Store
	startErr       error
	notFound       bool // Status knows no instance: Start failed before any was created

	mu         sync.Mutex
	unrecorded []string
	started    []string
}

func (r *recordingRuntime) Start(ctx context.Context, specs []runtime.InstanceSpec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range specs {
		if _, err := r.store.Instances().Get(ctx, s.ID); err != nil {
			r.unrecorded = append(r.unrecorded, s.ID)
		}
		r.started = append(r.started, s.ID)
	}
	return r.startErr
}

func (r *recordingRuntime) Status(_ context.Context, id string) (runtime.Status, error) {
	if r.notFound {
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, runtime.ErrNotFound)
	}
	return runtime.Status{ID: id, State: runtime.StateStarting}, nil
}

type discardEvents struct{}

func (discardEvents) Record(context.Context, string, int64, string, string, map[string]any) {}

type idleProber struct{}

func (idleProber) Run(ctx context.Context, _ func(health.Result)) { <-ctx.Done() }
func (idleProber) Reset()                                         {}
func (idleProber) SetTarget(health.Target)                        {}

func newTestFleet(t *testing.T, rt func(*store.Store) runtime.Driver) (*Fleet, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := New(Config{Store: st, Proxy: proxy.New(logger, proxy.Config{}), Runtime: rt(st), Events: discardEvents{},
		Probers: func(spec.Probes, health.Target, *slog.Logger) Prober { return idleProber{} }, Logger: logger})
	return f, st
}

// Instances are recorded before they start, so a daemon killed in between leaves records
// that recovery resolves, never a process nobody knows; a start that fails keeps them.
func TestInstancesAreRecordedBeforeTheyStart(t *testing.T) {
	for _, startErr := range []error{nil, errors.New("exec: no such file")} {
		t.Run(fmt.Sprint("start error ", startErr), func(t *testing.T) {
			var rt *recordingRuntime
			f, st := newTestFleet(t, func(st *store.Store) runtime.Driver {
				rt = &recordingRuntime{store: st, startErr: startErr}
				return rt
			})
			f.NoteRevision("web", 1, spec.Service{Name: "web", Replicas: 2})
			err := f.Instances().Start(t.Context(), "web", 1, 2, 7, false)
			if !errors.Is(err, startErr) {
				t.Fatalf("start: %v, want %v", err, startErr)
			}
			if len(rt.started) != 2 || len(rt.unrecorded) != 0 {
				t.Fatalf("runtime started %v, of which unrecorded at start %v; want 2, none unrecorded", rt.started, rt.unrecorded)
			}
			recs, err := st.Instances().List(t.Context(), "web")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[0].DeploymentID != 7 || recs[0].Desired != "run" {
				t.Errorf("records after start %+v, want 2 of deployment 7 to run", recs)
			}
			if got := f.InstanceViews("web"); len(got) != 2 {
				t.Errorf("fleet tracks %d instances, want 2", len(got))
			}
		})
	}
}

// An instance the runtime could not start (its record could not be written on a full disk,
// found by bench/soak) carries the start error as its message, so the deployment's reason
// names the cause rather than "instance not found", and no event says it started.
func TestInstanceNeverStartedCarriesTheStartError(t *testing.T) {
	startErr := errors.New("write record web-1-x: no space left on device")
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	events := &recordedEvents{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := New(Config{Store: st, Proxy: proxy.New(logger, proxy.Config{}), Events: events, Logger: logger,
		Runtime: &recordingRuntime{store: st, startErr: startErr, notFound: true},
		Probers: func(spec.Probes, health.Target, *slog.Logger) Prober { return idleProber{} }})
	f.NoteRevision("web", 1, spec.Service{Name: "web", Replicas: 1})
	if err := f.Instances().Start(t.Context(), "web", 1, 1, 7, false); !errors.Is(err, startErr) {
		t.Fatalf("start: %v, want %v", err, startErr)
	}
	views := f.InstanceViews("web")
	if len(views) != 1 || views[0].State != string(runtime.StateExited) || !strings.Contains(views[0].Message, "no space left on device") {
		t.Fatalf("instance after a failed start: %+v, want exited with the start error as its message", views)
	}
	if got := events.types(); slices.Contains(got, "instance_started") {
		t.Fatalf("events %v: instance_started for an instance that never started", got)
	}
}

type recordedEvents struct {
	mu  sync.Mutex
	typ []string
}

func (e *recordedEvents) Record(_ context.Context, _ string, _ int64, typ, _ string, _ map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.typ = append(e.typ, typ)
}

func (e *recordedEvents) types() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.typ)
}

func inst(id string, rev int, serving bool) *instance {
	in := &instance{rec: store.Instance{ID: id, Revision: rev}}
	if serving {
		in.ready, in.status = true, runtime.Status{State: runtime.StateRunning, Addr: "127.0.0.1:1"}
	}
	return in
}

func serviceOf(stable, replicas int, ins ...*instance) *service {
	s := newService("web")
	s.stable, s.spec.Replicas = stable, replicas
	for _, in := range ins {
		s.instances[in.rec.ID] = in
	}
	return s
}

func TestTargetGroups(t *testing.T) {
	s := serviceOf(1, 2, inst("web-1-aaaaaa", 1, true), inst("web-1-bbbbbb", 1, true), inst("web-2-cccccc", 2, true),
		inst("web-2-dddddd", 2, false), inst("web-1-b0a1b2c", 1, true))
	s.canary = 2
	got := targetGroups(s)
	want := []string{"-1 baseline 1 [web-1-b0a1b2c]", "1 stable 2 [web-1-aaaaaa web-1-bbbbbb]", "2 canary 1 [web-2-cccccc]"}
	if fmt.Sprint(groupStrings(got)) != fmt.Sprint(want) {
		t.Errorf("groups without weights %v, want %v (a group's weight is its number of serving targets)", groupStrings(got), want)
	}
	s.weights = map[int]int{1: 80, 2: 10, -1: 10}
	if got := shares(targetGroups(s)); fmt.Sprint(got) != fmt.Sprint(map[int]int{-1: 10, 1: 80, 2: 10}) {
		t.Errorf("shares with weights %v, want the weights", got)
	}
}

func groupStrings(gs []proxy.Group) []string {
	var out []string
	for _, g := range gs {
		var ids []string
		for _, t := range g.Targets {
			ids = append(ids, t.ID)
		}
		out = append(out, fmt.Sprintf("%d %s %d %v", g.Revision, g.Role, g.Weight, ids))
	}
	return out
}

func TestPlanService(t *testing.T) {
	exited := inst("web-1-eeeeee", 1, false)
	exited.status.State = runtime.StateExited
	stopping := inst("web-1-ffffff", 1, true)
	stopping.stopping = true
	warm := inst("web-0-aaaaaa", 0, true)
	warm.rec.RetireAt = t0.Add(1)
	for _, tc := range []struct {
		name      string
		s         *service
		wantStart int
		wantStop  []string
	}{
		{"at its replicas", serviceOf(1, 2, inst("web-1-aaaaaa", 1, true), inst("web-1-bbbbbb", 1, false)), 0, nil},
		{"one missing, a stopping one does not count", serviceOf(1, 2, inst("web-1-aaaaaa", 1, true), stopping), 1, nil},
		{"an exited one is replaced", serviceOf(1, 1, exited), 1, []string{"web-1-eeeeee"}},
		{"surplus stops", serviceOf(1, 1, inst("web-1-aaaaaa", 1, true), inst("web-1-bbbbbb", 1, true)), 0, []string{"web-1-bbbbbb"}},
		{"an old revision in its warm window stays", serviceOf(1, 1, inst("web-1-aaaaaa", 1, true), warm), 0, nil},
		{"an old revision without a window stops", serviceOf(1, 1, inst("web-1-aaaaaa", 1, true), inst("web-0-bbbbbb", 0, true)), 0, []string{"web-0-bbbbbb"}},
		{"a baseline outlives no deployment", serviceOf(1, 1, inst("web-1-aaaaaa", 1, true), inst("web-1-b0a1b2c", 1, true)), 0, []string{"web-1-b0a1b2c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := planService(tc.s, t0)
			if w.start != tc.wantStart || fmt.Sprint(w.stop) != fmt.Sprint(tc.wantStop) {
				t.Errorf("plan start %d stop %v, want start %d stop %v", w.start, w.stop, tc.wantStart, tc.wantStop)
			}
		})
	}
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
