package compose

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

// loadService writes one compose service (YAML under "web:") to a file and imports it.
func loadService(t *testing.T, body string) Import {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	doc := "services:\n  web:\n    image: app:1.0.0\n    ports: [\"8080:8000\"]\n" + body
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	p := load(t, []string{file}, nil, Options{})
	return p.Services[0]
}

func TestServiceMapping(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, got Import)
	}{
		{"shell healthcheck", "    healthcheck:\n      test: curl -f http://localhost:8000/\n", func(t *testing.T, got Import) {
			want := &spec.Container{Port: 8000, Healthcheck: &spec.Healthcheck{Test: []string{"CMD-SHELL", "curl -f http://localhost:8000/"}},
				Networks: got.Spec.Run.Container.Networks}
			if diff := cmp.Diff(got.Spec.Run.Container, want); diff != "" {
				t.Errorf("healthcheck (-got +want):\n%s", diff)
			}
			if got.Spec.Probes.Readiness == nil || got.Spec.Probes.Readiness.TCP == nil {
				t.Errorf("readiness = %+v, want a tcp probe", got.Spec.Probes.Readiness)
			}
		}},
		{"stop-first, all at once", "    deploy:\n      update_config: {parallelism: 0, order: stop-first}\n", func(t *testing.T, got Import) {
			r := got.Spec.Strategy.Rolling
			want := spec.IntOrPercent{Value: 100, Percent: true}
			if r == nil || r.MaxSurge != (spec.IntOrPercent{}) || r.MaxUnavailable != want {
				t.Errorf("rolling = %+v, want max_surge 0, max_unavailable 100%%", r)
			}
		}},
		{"legacy limits", "    mem_limit: 1g\n    cpus: 0.1\n", func(t *testing.T, got Import) {
			if c := got.Spec.Run.Container; c == nil || c.Memory != "1073741824" || c.CPUs != 0.1 {
				t.Errorf("container = %+v; want memory 1073741824 (1g) and cpus 0.1 exactly", c)
			}
		}},
		{"shell entrypoint and scale", "    entrypoint: /bin/app serve\n    scale: 2\n", func(t *testing.T, got Import) {
			if got.Spec.Run.Command != "/bin/app" || !cmp.Equal(got.Spec.Run.Args, []string{"serve"}) || got.Spec.Replicas != 2 {
				t.Errorf("run = %+v, replicas %d; want /bin/app [serve], 2", got.Spec.Run, got.Spec.Replicas)
			}
		}},
		{"stop grace and SIGTERM", "    stop_grace_period: 1m30s\n    stop_signal: TERM\n", func(t *testing.T, got Import) {
			if got.Spec.StopGrace.D() != 90*time.Second || len(got.Warnings) != 0 {
				t.Errorf("stop_grace = %s, warnings %q; want 1m30s and none", got.Spec.StopGrace.D(), got.Warnings)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, loadService(t, tt.body)) })
	}
}
