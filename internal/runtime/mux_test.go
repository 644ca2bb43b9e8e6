package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/runtime"
)

// fakeDriver isolates the Mux in its unit tests: it keeps instances in a map and records
// which calls reached it.
type fakeDriver struct {
	name    string
	listErr error
	pingErr error

	mu    sync.Mutex
	ids   map[string]bool
	calls []string
}

func newFake(name string, ids ...string) *fakeDriver {
	f := &fakeDriver{name: name, ids: map[string]bool{}}
	for _, id := range ids {
		f.ids[id] = true
	}
	return f
}

func (f *fakeDriver) note(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeDriver) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeDriver) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

func (f *fakeDriver) Start(_ context.Context, specs []runtime.InstanceSpec) error {
	for _, s := range specs {
		f.note("start " + s.ID)
		f.mu.Lock()
		f.ids[s.ID] = true
		f.mu.Unlock()
	}
	return nil
}

func (f *fakeDriver) Stop(_ context.Context, id string) error { f.note("stop " + id); return nil }

func (f *fakeDriver) Restart(_ context.Context, id string) error { f.note("restart " + id); return nil }

func (f *fakeDriver) Status(_ context.Context, id string) (runtime.Status, error) {
	if !f.has(id) {
		return runtime.Status{}, fmt.Errorf("%s: %w", id, runtime.ErrNotFound)
	}
	return runtime.Status{ID: id, State: runtime.StateRunning}, nil
}

func (f *fakeDriver) List(context.Context) ([]runtime.Status, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runtime.Status
	for id := range f.ids {
		out = append(out, runtime.Status{ID: id, State: runtime.StateRunning})
	}
	return out, nil
}

func (f *fakeDriver) Adopt(_ context.Context, ids []string) error {
	f.note(fmt.Sprint("adopt ", ids))
	return nil
}

func (f *fakeDriver) Remove(_ context.Context, id string) error {
	f.note("remove " + id)
	f.mu.Lock()
	delete(f.ids, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeDriver) Logs(_ context.Context, id string, _ bool, w io.Writer) error {
	f.note("logs " + id)
	_, err := io.WriteString(w, f.name)
	return err
}

func (f *fakeDriver) Check(_ context.Context, s runtime.InstanceSpec) error {
	f.note("check " + s.ID)
	return nil
}

func (f *fakeDriver) Ping(context.Context) error { f.note("ping"); return f.pingErr }

func (f *fakeDriver) Close() error { f.note("close"); return nil }

func TestMuxRoutesBySpec(t *testing.T) {
	proc, ctr := newFake("process"), newFake("container")
	m := runtime.NewMux(proc, ctr)
	ctx := context.Background()
	err := m.Start(ctx, []runtime.InstanceSpec{{ID: "p1"}, {ID: "c1", Image: "app:1"}, {ID: "p2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2", "c1"} {
		if err := m.Stop(ctx, id); err != nil {
			t.Fatalf("stop %s: %v", id, err)
		}
	}
	if got, want := proc.called(), []string{"start p1", "start p2", "stop p1", "stop p2"}; !slices.Equal(got, want) {
		t.Errorf("process driver calls %v, want %v", got, want)
	}
	if got, want := ctr.called(), []string{"start c1", "stop c1"}; !slices.Equal(got, want) {
		t.Errorf("container driver calls %v, want %v", got, want)
	}
}

func TestMuxWithoutContainersStartsNothing(t *testing.T) {
	proc := newFake("process")
	m := runtime.NewMux(proc, nil)
	err := m.Start(context.Background(), []runtime.InstanceSpec{{ID: "p1"}, {ID: "c1", Image: "app:1"}})
	if !errors.Is(err, runtime.ErrNoContainers) {
		t.Fatalf("start with an image and no container driver: %v, want ErrNoContainers", err)
	}
	if calls := proc.called(); len(calls) != 0 {
		t.Errorf("process driver calls %v, want none: a batch with an unroutable spec starts nothing", calls)
	}
	if err := m.Check(context.Background(), runtime.InstanceSpec{ID: "c1", Image: "app:1"}); !errors.Is(err, runtime.ErrNoContainers) {
		t.Errorf("check of an image without a container driver: %v, want ErrNoContainers", err)
	}
}

// An instance started by an earlier daemon is found by asking each driver, then remembered.
func TestMuxResolvesUnlearntInstances(t *testing.T) {
	proc, ctr := newFake("process"), newFake("container", "old-c")
	m := runtime.NewMux(proc, ctr)
	ctx := context.Background()
	if err := m.Restart(ctx, "old-c"); err != nil {
		t.Fatal(err)
	}
	if got := ctr.called(); !slices.Equal(got, []string{"restart old-c"}) {
		t.Errorf("container driver calls %v, want the restart", got)
	}
	if err := m.Stop(ctx, "ghost"); err != nil {
		t.Errorf("stop of an instance no driver knows: %v, want nil (already stopped)", err)
	}
	if _, err := m.Status(ctx, "ghost"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("status of an instance no driver knows: %v, want ErrNotFound", err)
	}
}

func TestMuxListWithContainerRuntimeDown(t *testing.T) {
	proc, ctr := newFake("process", "p1"), newFake("container", "c1")
	ctr.listErr = errors.New("connection refused")
	m := runtime.NewMux(proc, ctr)
	got, err := m.List(context.Background())
	var unavailable *runtime.UnavailableError
	if !errors.As(err, &unavailable) {
		t.Fatalf("list with the container driver down: %v, want *UnavailableError", err)
	}
	if len(got) != 1 || got[0].ID != "p1" {
		t.Errorf("statuses %v, want the process p1 only", got)
	}
}

// A removed process instance keeps its log file: its logs still come from the process driver.
func TestMuxLogsOfRemovedInstance(t *testing.T) {
	proc, ctr := newFake("process"), newFake("container")
	m := runtime.NewMux(proc, ctr)
	var out stringWriter
	if err := m.Logs(context.Background(), "gone", false, &out); err != nil {
		t.Fatal(err)
	}
	if out.s != "process" {
		t.Errorf("logs of a removed instance came from %q, want the process driver", out.s)
	}
}

func TestMuxCheckPingsContainerRuntime(t *testing.T) {
	proc, ctr := newFake("process"), newFake("container")
	ctr.pingErr = errors.New("no engine")
	m := runtime.NewMux(proc, ctr)
	err := m.Check(context.Background(), runtime.InstanceSpec{ID: "c1", Image: "app:1"})
	if err == nil || !errors.Is(err, ctr.pingErr) {
		t.Fatalf("check with the engine down: %v, want its ping error", err)
	}
	if got := ctr.called(); !slices.Equal(got, []string{"ping"}) {
		t.Errorf("container driver calls %v, want only the ping", got)
	}
}

type stringWriter struct{ s string }

func (w *stringWriter) Write(b []byte) (int, error) { w.s += string(b); return len(b), nil }
