package runtimetest

import (
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// startThenRestartDaemon starts s with one driver, closes it, and returns a second driver
// over the same directory, as a daemon restart would.
func startThenRestartDaemon(t *testing.T, h Harness, s runtime.InstanceSpec) (runtime.Status, runtime.Driver) {
	t.Helper()
	dir := t.TempDir()
	a := newDriver(t, h, dir)
	start(t, a, s)
	st := waitRunning(t, a, s.ID)
	waitServes(t, st.Addr)
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return st, newDriver(t, h, dir)
}

func testReadopt(t *testing.T, h Harness) {
	s := appSpec(t, h, nil)
	before, b := startThenRestartDaemon(t, h, s)
	list, err := b.List(t.Context())
	if err != nil {
		t.Fatalf("List of the new driver: %v", err)
	}
	var found *runtime.Status
	for i := range list {
		if list[i].ID == s.ID {
			found = &list[i]
		}
	}
	if found == nil || found.State != runtime.StateRunning || found.Addr != before.Addr {
		t.Fatalf("List of the new driver: got %+v, want %s running at %s", list, s.ID, before.Addr)
	}
	if err := b.Adopt(t.Context(), []string{s.ID}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	waitServes(t, before.Addr)
	if err := b.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop by the new driver: %v", err)
	}
	st, err := b.Status(t.Context(), s.ID)
	if err != nil || st.State != runtime.StateExited {
		t.Errorf("after Stop by the new driver: %+v, %v; want exited", st, err)
	}
	checkRefuses(t, before.Addr)
}

func testAdoptedCrash(t *testing.T, h Harness) {
	s := appSpec(t, h, map[string]string{"EXIT_AFTER": "1500ms"})
	before, b := startThenRestartDaemon(t, h, s)
	adopted := time.Now()
	if err := b.Adopt(t.Context(), []string{s.ID}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	after := waitStatus(t, b, s.ID, "restarted by the adopting driver", func(st runtime.Status) bool {
		return st.State == runtime.StateRunning && st.Restarts > before.Restarts && st.Addr != "" &&
			st.StartedAt.After(adopted)
	})
	waitServes(t, after.Addr)
}
