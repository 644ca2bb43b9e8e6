package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// containerRun identifies one run of a container: a restarted or recreated container
// differs in ID, start time or restart count.
type containerRun struct {
	ID, Instance, StartedAt string
	Restarts                int
	Running                 bool
}

// containerRuns inspects the containers of state's daemon, sorted by container ID.
func containerRuns(t *testing.T, state string) []containerRun {
	t.Helper()
	cli := dockertest.Client(t)
	var runs []containerRun
	for _, c := range containersOf(t, state) {
		in, err := cli.ContainerInspect(context.Background(), c.ID)
		if err != nil {
			t.Fatalf("inspect container %s: %v", c.ID, err)
		}
		r := containerRun{ID: in.ID, Instance: c.Labels[docker.LabelInstance], Restarts: in.RestartCount}
		if in.State != nil {
			r.StartedAt, r.Running = in.State.StartedAt, in.State.Running
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b containerRun) int { return strings.Compare(a.ID, b.ID) })
	return runs
}

// TestDockerHandoffKeepsContainers hands a daemon running two containers over to a new
// process (SIGHUP) under steady load: no request fails, the containers are the same ones,
// never restarted, and the new daemon routes to them; then a rolling deploy through the new
// daemon replaces them and leaves no container of the old revision behind.
func TestDockerHandoffKeepsContainers(t *testing.T) {
	image := dockertest.DemoImage(t)
	p := startDaemonProc(t, "--stop-instances")
	cli := dockertest.Client(t)
	owner := ownerOf(t, p.state)
	// Runs before startDaemonProc's clean-ups: the daemon must be gone before its containers
	// are removed, or it would replace them.
	t.Cleanup(func() {
		p.kill()
		if err := dockertest.RemoveContainers(context.Background(), cli, docker.LabelOwner, owner); err != nil {
			t.Errorf("remove containers: %v", err)
		}
	})
	ctx := context.Background()
	listen := freeAddr(t)
	spec := func(version string) string {
		return imageYAML("web", listen, image, version, "rolling: {max_surge: 1, max_unavailable: 0}\n", map[string]string{"LATENCY": "20ms"})
	}
	first, err := p.client.Deploy(ctx, apiDeploy("web", spec("v1")))
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, first.ID, "succeeded")
	before := containerRuns(t, p.state)
	if len(before) != 2 || !before[0].Running || !before[1].Running {
		t.Fatalf("containers after v1: %+v; want 2 running", before)
	}

	load := startSteadyLoad(t, "http://"+listen+"/")
	time.Sleep(1 * time.Second) // steady load before the hand-off
	oldPID := p.cmd.Process.Pid
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var newPID int
	waitFor(t, 30*time.Second, "a new daemon in the pid file", func() bool {
		newPID, _ = handoff.ReadPIDFile(p.state)
		return newPID != 0 && newPID != oldPID
	})
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("old daemon's exit after the hand-off: %v", err)
	}
	time.Sleep(2 * time.Second) // steady load on the new daemon
	keep, conn := load.finish()
	checkLoad(t, "keep-alive", keep)
	checkLoad(t, "new-connection", conn)

	if info, err := p.info(ctx); err != nil || info.PID != newPID {
		t.Errorf("daemon after the hand-off: %+v, %v; want pid %d", info, err, newPID)
	}
	if after := containerRuns(t, p.state); !slices.Equal(after, before) {
		t.Errorf("containers after the hand-off:\n%+v\nwant the same, not restarted:\n%+v", after, before)
	}
	assertTargets(t, p, before)

	second, err := p.client.Deploy(ctx, apiDeploy("web", spec("v2")))
	if err != nil {
		t.Fatalf("deploy v2 through the new daemon: %v", err)
	}
	waitDeployment(t, p.client, second.ID, "succeeded")
	assertServes(t, listen, "v2")
	var left []container.Summary
	waitFor(t, 30*time.Second, "exactly 2 running containers, all of the new revision", func() bool {
		left = containersOf(t, p.state)
		for _, c := range left {
			if c.Labels[docker.LabelRevision] != fmt.Sprint(second.To) || c.State != "running" {
				return false
			}
		}
		return len(left) == 2
	})
	for _, c := range left {
		if slices.ContainsFunc(before, func(r containerRun) bool { return r.ID == c.ID }) {
			t.Errorf("container %s of v1 still there after v2", c.ID)
		}
	}
}

// assertTargets checks that p's daemon reports the containers in runs as web's ready
// instances, both receiving traffic.
func assertTargets(t *testing.T, p *daemonProc, runs []containerRun) {
	t.Helper()
	svc, err := p.client.Service(context.Background(), "web")
	if err != nil {
		t.Fatalf("new daemon's view of web: %v", err)
	}
	var got, want []string
	for _, in := range svc.Instances {
		if in.Ready && in.Target && in.State == "running" {
			got = append(got, in.ID)
		}
	}
	for _, r := range runs {
		want = append(want, r.Instance)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("new daemon's ready targets of web: %v (instances %+v); want the containers' instances %v", got, svc.Instances, want)
	}
}

// ownerOf is the io.cutover.owner label of the containers of state's daemon.
func ownerOf(t *testing.T, state string) string {
	t.Helper()
	owner, err := filepath.Abs(state)
	if err != nil {
		t.Fatal(err)
	}
	return owner
}
