package docker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
	"github.com/cutover/cutover/internal/runtime/runtimetest"
)

// newTestDriver returns a driver owning the containers labelled with owner; they are all
// removed when t ends.
func newTestDriver(t *testing.T, owner string, opts Options) *Driver {
	t.Helper()
	cli := dockertest.Client(t)
	opts.Owner, opts.Pull = owner, PullNever
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(logger, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dockertest.RemoveContainers(ctx, cli, LabelOwner, owner); err != nil {
			t.Errorf("cleanup: remove containers of %s: %v", owner, err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	image := dockertest.DemoImage(t)
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, dir string) runtime.Driver {
			return newTestDriver(t, dir, Options{})
		},
		App: func(t *testing.T, env map[string]string) runtime.InstanceSpec {
			return runtime.InstanceSpec{Image: image, Env: env, StopGrace: 5 * time.Second}
		},
	})
}
