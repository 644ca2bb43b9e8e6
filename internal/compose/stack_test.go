package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/stack"
)

func writeStack(t *testing.T, doc string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// LoadStack reads the stack keys of x-cutover (kind, timeout, min_ready) and keeps the rest
// for a routed service's spec; a route.listen in x-cutover makes a service routed.
func TestLoadStackExtension(t *testing.T) {
	file := writeStack(t, `services:
  api:
    image: app:1
    x-cutover: {route: {listen: "127.0.0.1:9000"}, stop_grace: 5s}
  migrate:
    image: app:1
    x-cutover: {kind: job, timeout: 90s}
  worker:
    image: app:1
    x-cutover: {min_ready: 3s, replicas: 2}
`)
	p, err := LoadStack(t.Context(), []string{file}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*stack.Service{}
	for i := range p.Services {
		got[p.Services[i].Name] = &p.Services[i]
	}
	api, job, worker := got["api"], got["migrate"], got["worker"]
	if k := stack.KindOf(p, api); k != stack.Routed || api.Spec == nil || api.Spec.Route.Listen != "127.0.0.1:9000" ||
		api.Spec.StopGrace.D() != 5*time.Second {
		t.Errorf("api: kind %s, spec %+v; want routed on 127.0.0.1:9000 with stop_grace 5s", k, api.Spec)
	}
	if k := stack.KindOf(p, job); k != stack.Job || job.Timeout != 90*time.Second {
		t.Errorf("migrate: kind %s timeout %v; want job, 90s", k, job.Timeout)
	}
	if k := stack.KindOf(p, worker); k != stack.Worker || worker.MinReady != 3*time.Second || worker.Spec != nil {
		t.Errorf("worker: kind %s min_ready %v; want worker, 3s, no spec", k, worker.MinReady)
	}
	if w := strings.Join(worker.Warnings, "\n"); !strings.Contains(w, "service worker: x-cutover replicas is ignored") {
		t.Errorf("worker warnings lack the ignored replicas:\n%s", w)
	}
}

func TestLoadStackBadKind(t *testing.T) {
	file := writeStack(t, "services:\n  a:\n    image: app:1\n    x-cutover:\n      kind: database\n")
	_, err := LoadStack(t.Context(), []string{file}, Options{})
	want := file + ":5:7: services.a.x-cutover.kind: kind database: want one of routed, stateful, worker, job"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadStack: %v\nwant %s", err, want)
	}
}
