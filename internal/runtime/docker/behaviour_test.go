package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

func randID(t *testing.T, prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// startApp starts image with env under a new ID on d and returns its spec.
func startApp(t *testing.T, d *Driver, image string, env map[string]string) runtime.InstanceSpec {
	t.Helper()
	s := runtime.InstanceSpec{ID: randID(t, "web-1-"), Service: "web", Revision: 1, Image: image,
		Env: env, StopGrace: 2 * time.Second}
	if err := d.Start(t.Context(), []runtime.InstanceSpec{s}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// waitStatus polls id's status for up to 20s until ok accepts it.
func waitStatus(t *testing.T, d *Driver, id, what string, ok func(runtime.Status) bool) runtime.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var st runtime.Status
	var err error
	for time.Now().Before(deadline) {
		if st, err = d.Status(t.Context(), id); err == nil && ok(st) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not %s after 20s; last %+v, %v", id, what, st, err)
	return st
}

// waitServes polls http://addr/ for up to 20s until it answers 200.
func waitServes(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var resp *http.Response
		if resp, err = c.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET http://%s/: no 200 after 20s: %v", addr, err)
}

func TestHealthcheckStatus(t *testing.T) {
	t.Parallel()
	image := dockertest.HealthImage(t)
	d := newTestDriver(t, t.TempDir(), Options{})
	ready := startApp(t, d, image, map[string]string{"READY_AFTER": "1500ms"})
	first := waitStatus(t, d, ready.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning })
	if first.Health != runtime.HealthStarting {
		t.Errorf("health right after start with READY_AFTER=1500ms: %q, want %q", first.Health, runtime.HealthStarting)
	}
	never := startApp(t, d, image, map[string]string{"NEVER_READY": "1"})
	plain := startApp(t, d, dockertest.DemoImage(t), nil)
	waitStatus(t, d, ready.ID, "healthy", func(s runtime.Status) bool { return s.Health == runtime.HealthHealthy })
	waitStatus(t, d, never.ID, "unhealthy", func(s runtime.Status) bool { return s.Health == runtime.HealthUnhealthy })
	st := waitStatus(t, d, plain.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning })
	if st.Health != runtime.HealthUnknown {
		t.Errorf("health of an image without HEALTHCHECK: %q, want unknown", st.Health)
	}
}

func TestAdoptKeepsContainerAndOwnersDoNotFight(t *testing.T) {
	t.Parallel()
	owner := t.TempDir()
	a := newTestDriver(t, owner, Options{})
	s := startApp(t, a, dockertest.DemoImage(t), nil)
	before := waitStatus(t, a, s.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning })
	waitServes(t, before.Addr)
	cBefore, err := a.inspect(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	other := newTestDriver(t, t.TempDir(), Options{})
	if list, err := other.List(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("List of another owner: %+v, %v; want empty", list, err)
	}
	if _, err := other.Status(t.Context(), s.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status by another owner: %v, want ErrNotFound", err)
	}
	if err := other.Stop(t.Context(), s.ID); err != nil {
		t.Errorf("Stop by another owner: %v, want nil (not its container)", err)
	}
	if err := other.Start(t.Context(), []runtime.InstanceSpec{s}); err == nil {
		t.Errorf("Start by another owner of an ID whose container exists: got nil, want an error")
	}

	b := newTestDriver(t, owner, Options{})
	if err := b.Adopt(t.Context(), []string{s.ID}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	after, err := b.Status(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	cAfter, err := b.inspect(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cAfter.ID != cBefore.ID || !after.StartedAt.Equal(before.StartedAt) || after.Restarts != before.Restarts ||
		after.State != runtime.StateRunning || after.Addr != before.Addr {
		t.Errorf("adopted instance changed: before %+v (container %s), after %+v (container %s)",
			before, cBefore.ID[:12], after, cAfter.ID[:12])
	}
	waitServes(t, after.Addr)
}

func TestOptionsApplied(t *testing.T) {
	t.Parallel()
	d := newTestDriver(t, t.TempDir(), Options{User: "65534:65534", MemoryBytes: 64 << 20, NanoCPUs: 5e8, ReadOnlyRootFS: true})
	s := startApp(t, d, dockertest.DemoImage(t), map[string]string{"VERSION": "opts"})
	st := waitStatus(t, d, s.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning && s.Addr != "" })
	waitServes(t, st.Addr)
	c, err := d.inspect(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Config.User, c.HostConfig.Memory, c.HostConfig.NanoCPUs, c.HostConfig.ReadonlyRootfs,
		c.Config.StopSignal, *c.Config.StopTimeout, c.Config.Labels[LabelService], c.Config.Labels[LabelRevision]}
	want := []any{"65534:65534", int64(64 << 20), int64(5e8), true, "SIGTERM", 2, "web", "1"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("container setting %d: got %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	if !strings.HasPrefix(st.Addr, "127.0.0.1:") {
		t.Errorf("Addr = %q, want a port published on 127.0.0.1", st.Addr)
	}
}

func TestUserNetwork(t *testing.T) {
	t.Parallel()
	cli := dockertest.Client(t)
	name := randID(t, "cutover-test-")
	if _, err := cli.NetworkCreate(t.Context(), name, network.CreateOptions{Driver: "bridge",
		Labels: map[string]string{LabelOwner: name}}); err != nil {
		t.Fatalf("create network %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := cli.NetworkRemove(context.Background(), name); err != nil {
			t.Errorf("cleanup: remove network %s: %v", name, err)
		}
	})
	d := newTestDriver(t, t.TempDir(), Options{Network: name})
	s := startApp(t, d, dockertest.DemoImage(t), nil)
	st := waitStatus(t, d, s.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning && s.Addr != "" })
	if strings.HasPrefix(st.Addr, "127.") || !strings.HasSuffix(st.Addr, ":8080") {
		t.Errorf("Addr on network %s = %q, want the container's address and port 8080", name, st.Addr)
	}
	waitServes(t, st.Addr)
}

func TestMissingImageNeverPulled(t *testing.T) {
	t.Parallel()
	d := newTestDriver(t, t.TempDir(), Options{})
	s := runtime.InstanceSpec{ID: "web-1-missing", Image: "cutover-no-such-image:never"}
	for name, err := range map[string]error{"Check": d.Check(t.Context(), s), "Start": d.Start(t.Context(), []runtime.InstanceSpec{s})} {
		if err == nil || !strings.Contains(err.Error(), s.Image) || !strings.Contains(err.Error(), "not present locally") {
			t.Errorf("%s of a missing image: %v, want an error naming %s as not present locally", name, err, s.Image)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogsFollowAcrossRestarts(t *testing.T) {
	t.Parallel()
	d := newTestDriver(t, t.TempDir(), Options{})
	s := startApp(t, d, dockertest.DemoImage(t), map[string]string{"EXIT_AFTER": "300ms"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var followed lockedBuffer
	errc := make(chan error, 1)
	go func() { errc <- d.Logs(ctx, s.ID, true, &followed) }()
	waitFor(t, "3 runs in the followed logs", func() bool { return strings.Count(followed.String(), "listening on") >= 3 })
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	var all bytes.Buffer
	if err := d.Logs(t.Context(), s.ID, false, &all); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	// Every line once, in order: nothing lost or repeated at the restarts.
	waitFor(t, "followed logs equal to the whole log", func() bool { return followed.String() == all.String() })
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Logs(follow) after cancel: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopRemovesNeverStartedContainer(t *testing.T) {
	t.Parallel()
	d := newTestDriver(t, t.TempDir(), Options{})
	s := runtime.InstanceSpec{ID: randID(t, "web-1-"), Service: "web", Revision: 1, Image: dockertest.DemoImage(t)}
	// What a daemon killed between create and start leaves behind.
	req := d.opts.createRequest(s)
	if _, err := d.cli.ContainerCreate(t.Context(), req.config, req.host, req.network, nil, containerName(s.ID)); err != nil {
		t.Fatalf("create: %v", err)
	}
	if st, err := d.Status(t.Context(), s.ID); err != nil || st.State != runtime.StateStarting {
		t.Fatalf("Status of a created container: %+v, %v; want starting", st, err)
	}
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := d.Status(t.Context(), s.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status after Stop of a never-started container: %v, want ErrNotFound", err)
	}
}

func TestMissingCommandInImage(t *testing.T) {
	t.Parallel()
	d := newTestDriver(t, t.TempDir(), Options{})
	s := runtime.InstanceSpec{ID: randID(t, "web-1-"), Service: "web", Revision: 1, Image: dockertest.DemoImage(t),
		Command: "/cutover-no-such-command"}
	err := d.Start(t.Context(), []runtime.InstanceSpec{s})
	if err == nil || !strings.Contains(err.Error(), s.Command) {
		t.Fatalf("Start with a command missing from the image: %v, want an error naming %s", err, s.Command)
	}
	if _, err := d.inspect(t.Context(), s.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("container of the failed start still exists (inspect: %v)", err)
	}
}
