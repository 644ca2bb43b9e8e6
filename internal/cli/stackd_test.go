package cli_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	cutover "github.com/cutover/cutover/internal/daemon"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// composeEnv is a running daemon on the real engine for one compose project of a test.
type composeEnv struct {
	d       *cutover.Daemon
	state   string // the daemon's state directory (absolute): its containers' owner
	project string
}

// startCompose starts a daemon on a new state directory. Once the test ends and the daemon
// has stopped, the project's containers (the daemon's and the stack's own), networks,
// volume PROJECT_data and built images are removed.
func startCompose(t *testing.T) composeEnv {
	t.Helper()
	dc := dockertest.Client(t)
	state, _ := filepath.Abs(t.TempDir())
	e := composeEnv{state: state, project: "t" + strings.ToLower(filepath.Base(filepath.Dir(state)))}
	t.Cleanup(func() { // registered first: runs once the daemon stopped
		ctx := context.Background()
		for _, o := range []string{state, filepath.Join(state, "stack", e.project)} {
			_ = dockertest.RemoveContainers(ctx, dc, docker.LabelOwner, o)
		}
		_ = dockertest.RemoveNetworks(ctx, dc, docker.LabelProject, e.project)
		_ = dc.VolumeRemove(ctx, e.project+"_data", true)
		imgs, _ := dc.ImageList(ctx, image.ListOptions{
			Filters: filters.NewArgs(filters.Arg("reference", "cutover-build/"+e.project+"-*"))})
		for _, i := range imgs {
			_, _ = dc.ImageRemove(ctx, i.ID, image.RemoveOptions{Force: true})
		}
	})
	d, err := cutover.New(context.Background(), cutover.Options{StateDir: state, Listen: "127.0.0.1:0",
		StopInstancesOnExit: true, Logger: slog.New(slog.DiscardHandler), Tick: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e.d = d
	return e
}

// cli runs the command line against the daemon and its state directory.
func (e composeEnv) cli(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, "http://"+e.d.Addr(), append([]string{"--token", e.d.Token(), "--state", e.state}, args...)...)
}
