package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/spec"
	"github.com/google/go-cmp/cmp"
)

// TestExampleSpecsParse checks that the example specs next to the demo app are valid and
// say what their comments claim.
func TestExampleSpecsParse(t *testing.T) {
	load := func(name string) *spec.Service {
		t.Helper()
		path := filepath.Join("..", name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(data, path)
		if err != nil {
			t.Fatalf("spec.Parse(%s): %v", path, err)
		}
		return s
	}

	demo := load("demo.yaml")
	r := demo.Strategy.Rolling
	if r == nil {
		t.Fatalf("demo.yaml strategy = %+v, want rolling", demo.Strategy)
	}
	got := []any{demo.Name, demo.Run.Command, demo.Run.Env["VERSION"], demo.Replicas,
		demo.Probes.Readiness.HTTP.Path, demo.Probes.Readiness.Period.D(), demo.Route.Listen,
		r.MaxSurge, r.MaxUnavailable, demo.StopGrace.D()}
	want := []any{"demo", "demoapp", "v1", 2, "/healthz", 200 * time.Millisecond, "127.0.0.1:8080",
		spec.IntOrPercent{Value: 1}, spec.IntOrPercent{Value: 0}, 10 * time.Second}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("demo.yaml (-got +want):\n%s", d)
	}

	bg := load("bluegreen.yaml")
	b := bg.Strategy.BlueGreen
	if b == nil {
		t.Fatalf("bluegreen.yaml strategy = %+v, want blue_green", bg.Strategy)
	}
	if d := cmp.Diff([]any{bg.Strategy.Type, b.PreviewHeader, b.ScaleDownDelay.D()},
		[]any{spec.TypeBlueGreen, "X-Preview", 30 * time.Second}); d != "" {
		t.Errorf("bluegreen.yaml (-got +want):\n%s", d)
	}
}
