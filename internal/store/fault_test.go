package store

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cutover/cutover/internal/testdisk"
)

// TestFullDiskRefusesWritesAndRecovers fills a real tmpfs under the state file: every kind of
// write fails with a *WriteError naming the file and ENOSPC, keeps nothing, reads go on, and
// once space is freed the same Store writes again.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	dir := testdisk.Tmpfs(t, 4<<20)
	path := filepath.Join(dir, "state.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	svc := Service{Name: "web", Spec: []byte(`{"name":"web"}`)}
	if _, _, err := s.BeginDeployment(ctx, svc, Revision{Spec: []byte("{}")}, Deployment{}); err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	free := testdisk.Fill(t, dir)

	// Big enough to need new pages, so the write cannot fit in pages SQLite has already.
	big := []byte(strings.Repeat("s", 64<<10))
	writes := map[string]func() error{
		"begin deployment": func() error {
			_, _, err := s.BeginDeployment(ctx, Service{Name: "api", Spec: big}, Revision{Spec: big}, Deployment{})
			return err
		},
		"add event":   func() error { _, err := s.AddEvent(ctx, Event{Type: "x", Data: big}); return err },
		"put service": func() error { return s.PutService(ctx, Service{Name: "other", Spec: big}) },
		"tx": func() error {
			return s.Tx(ctx, func(tx *Store) error {
				_, err := tx.AddEvent(ctx, Event{Type: "y", Data: big})
				return err
			})
		},
	}
	for name, write := range writes {
		err := write()
		var we *WriteError
		if !errors.As(err, &we) {
			t.Fatalf("%s on a full disk: %v, want a *WriteError", name, err)
		}
		if !errors.Is(err, syscall.ENOSPC) || we.Path != path || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), "no space left on device") {
			t.Errorf("%s on a full disk: %q, want it to name %s and ENOSPC", name, err, path)
		}
		if !isUnavailable(err) {
			t.Errorf("%s: error does not mark itself unavailable (503)", name)
		}
		t.Logf("%s: %v", name, err)
	}
	services, err := s.ListServices(ctx)
	if err != nil || len(services) != 1 {
		t.Fatalf("services after refused writes: %d, %v; want web alone", len(services), err)
	}
	if evs, err := s.ListEvents(ctx, EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("events after refused writes: %d, %v; want none", len(evs), err)
	}

	free()
	for name, write := range writes {
		if err := write(); err != nil {
			t.Errorf("%s after space was freed: %v", name, err)
		}
	}
	if err := check(ctx, s.w, path); err != nil {
		t.Errorf("quick_check after the fault: %v", err)
	}
}

// isUnavailable is how the control API recognises a condition of the host (503).
func isUnavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}
