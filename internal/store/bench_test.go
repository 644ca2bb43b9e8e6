package store

import (
	"path/filepath"
	"testing"
)

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "cutover.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAddEvent measures one committed (fsynced) event.
func BenchmarkAddEvent(b *testing.B) {
	s := benchStore(b)
	e := Event{Service: "web", DeploymentID: 1, Type: "step", Message: "weight 10", Data: []byte(`{"weight":10}`)}
	for b.Loop() {
		if _, err := s.AddEvent(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateDeployment measures one committed (fsynced) deployment update with a 1 KiB state.
func BenchmarkUpdateDeployment(b *testing.B) {
	s := benchStore(b)
	_, d, err := s.BeginDeployment(b.Context(), Service{Name: "web"}, Revision{}, Deployment{})
	if err != nil {
		b.Fatal(err)
	}
	d.State = make([]byte, 1024)
	for i := range d.State {
		d.State[i] = 'a' + byte(i%26)
	}
	for b.Loop() {
		if err := s.UpdateDeployment(b.Context(), d); err != nil {
			b.Fatal(err)
		}
	}
}
