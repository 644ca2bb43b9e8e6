package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
	"github.com/cutover/cutover/internal/testbin"
)

// processSteps are the crash points of starting and stopping a process instance, in the
// order a rolling deploy reaches them (docs/reliability.md lists them).
var processSteps = []string{
	// start: the daemon's record, then the driver's record before the fork, the fork, the pid
	"instance-record-before", "instance-record-after",
	"spawn-record-before", "spawn-fork-before", "spawn-fork-after", "spawn-record-after",
	// stop: the daemon's record of the stop, the driver's, the signal, the exit, the removals
	"instance-stop-record-before", "instance-stop-record-after",
	"stop-record-before", "stop-record-after", "stop-signal-before", "stop-signal-after",
	"stop-exited-record-after", "remove-record-before", "remove-record-after",
	"instance-forget-before", "instance-forget-after",
}

// TestKillAtEveryStep runs the real binary with CUTOVER_FAULT naming each step of starting
// and stopping an instance: a first deploy (and, when the daemon survived it, a second one,
// whose rolling update stops the first revision's instances) reaches the step, where the
// daemon kills itself with SIGKILL. A new daemon on the same state directory must then
// finish the deployment with exactly the desired instances: every process of the app is one
// that an instance record claims (no orphan), one process per instance (no duplicate), the
// route serves the deployed version, and a stop with --stop-instances leaves no process.
func TestKillAtEveryStep(t *testing.T) {
	app := testbin.Demoapp(t)
	for _, step := range processSteps {
		t.Run(step, func(t *testing.T) {
			state := t.TempDir()
			mark := fmt.Sprintf("step-%d-%s", os.Getpid(), step)
			h := &harness{t: t, app: app}
			listen := freeAddr(t)
			spec := func(v string) string {
				return h.yaml(appSpec{Name: "web", Listen: listen, Version: v, Replicas: 2,
					Env: map[string]string{"TEST_MARK": mark}, Strategy: "rolling: {max_surge: 1, max_unavailable: 0}\n"})
			}
			t.Cleanup(func() { killMarked(t, mark) })
			killedAt(t, startServeEnv(t, state, []string{crashpoint.Env + "=" + step}), spec, step)

			p := startServe(t, state, "--stop-instances")
			ctx := context.Background()
			var last api.Deployment
			waitFor(t, 60*time.Second, "the last deployment to succeed", func() bool {
				deps, err := p.client.Deployments(ctx, "web", 1)
				if err != nil || len(deps) == 0 || !deps[0].Final() {
					return false
				}
				last = deps[0]
				return true
			})
			if last.Status != "succeeded" {
				t.Fatalf("deployment %d after the restart: %s (%s)", last.ID, last.Status, last.Reason)
			}
			var procs, claimed []int
			defer func() {
				if t.Failed() {
					t.Logf("processes of the app %v, pids the instances' records claim %v\n%s", procs, claimed, p.log)
				}
			}()
			waitFor(t, 30*time.Second, "2 ready instances of the last revision, each one process", func() bool {
				svc, err := p.client.Service(ctx, "web")
				if err != nil || len(svc.Instances) != 2 {
					return false
				}
				var ids []string
				for _, in := range svc.Instances {
					if in.Revision != last.To || !in.Ready {
						return false
					}
					ids = append(ids, in.ID)
				}
				procs, claimed = markedProcesses(t, mark), recordedPIDs(t, state, ids)
				slices.Sort(procs)
				slices.Sort(claimed)
				return len(procs) == 2 && slices.Equal(procs, claimed)
			})
			assertServes(t, listen, fmt.Sprintf("v%d", last.To))
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("daemon exit after SIGINT: %v\n%s", err, p.log)
			}
			if left := markedProcesses(t, mark); len(left) != 0 {
				t.Errorf("processes left after shutdown with --stop-instances: %v", left)
			}
		})
	}
}

// killedAt deploys v1, then v2 if the daemon is still alive and v1 succeeded, and fails
// unless the daemon died of SIGKILL (at step) meanwhile.
func killedAt(t *testing.T, p *serveProcess, spec func(string) string, step string) {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	ctx := context.Background()
	for _, v := range []string{"v1", "v2"} {
		// The daemon may die before it answers: the deployment is found after the restart.
		dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec(v)})
		for err == nil && !dep.Final() {
			select {
			case err := <-exited:
				checkKilled(t, err, step, p)
				return
			case <-time.After(50 * time.Millisecond):
			}
			dep, err = p.client.Deployment(ctx, dep.ID)
		}
		if err == nil && dep.Status != "succeeded" {
			t.Fatalf("deploy %s before the kill: %s (%s)", v, dep.Status, dep.Reason)
		}
		if err != nil {
			break
		}
	}
	select {
	case err := <-exited:
		checkKilled(t, err, step, p)
	case <-time.After(60 * time.Second):
		t.Fatalf("two deploys never reached step %s\n%s", step, p.log)
	}
}

func checkKilled(t *testing.T, err error, step string, p *serveProcess) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("daemon ended with %v, want SIGKILL at %s\n%s", err, step, p.log)
	}
}

// recordedPIDs returns the pids that the process driver's records of ids hold.
func recordedPIDs(t *testing.T, state string, ids []string) []int {
	t.Helper()
	var pids []int
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(state, "run", "instances", id+".json"))
		if err != nil {
			continue
		}
		var rec struct {
			PID int `json:"pid"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("record of %s: %v", id, err)
		}
		pids = append(pids, rec.PID)
	}
	return pids
}

// killMarked kills what markedProcesses finds, for a test that failed halfway.
func killMarked(t *testing.T, mark string) {
	for _, pid := range markedProcesses(t, mark) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// dockerSteps are the crash points of starting and stopping a container instance.
var dockerSteps = []string{
	"docker-create-before", "docker-create-after", "docker-start-after",
	"docker-stop-before", "docker-stop-after", "docker-remove-before", "docker-remove-after",
}

// TestKillAtEveryContainerStep is TestKillAtEveryStep for containers on the real Docker
// engine: after the restart, the containers of the state directory (found by their owner
// label) are exactly the service's instances, running, of the last revision; after a stop
// with --stop-instances none runs.
func TestKillAtEveryContainerStep(t *testing.T) {
	image := dockertest.DemoImage(t)
	for _, step := range dockerSteps {
		t.Run(step, func(t *testing.T) {
			state := t.TempDir()
			cleanupContainers(t, state)
			listen := freeAddr(t)
			spec := func(v string) string {
				return imageYAML("web", listen, image, v, "rolling: {max_surge: 1, max_unavailable: 0}\n", nil)
			}
			killedAt(t, startServeEnv(t, state, []string{crashpoint.Env + "=" + step}), spec, step)

			p := startServe(t, state, "--stop-instances")
			ctx := context.Background()
			var last api.Deployment
			waitFor(t, 90*time.Second, "the last deployment to succeed", func() bool {
				deps, err := p.client.Deployments(ctx, "web", 1)
				if err != nil || len(deps) == 0 || !deps[0].Final() {
					return false
				}
				last = deps[0]
				return true
			})
			if last.Status != "succeeded" {
				t.Fatalf("deployment %d after the restart: %s (%s)\n%s", last.ID, last.Status, last.Reason, p.log)
			}
			var have, want []string
			var states []string
			defer func() {
				if t.Failed() {
					t.Logf("containers %v (%v), instances %v\n%s", have, states, want, p.log)
				}
			}()
			waitFor(t, 60*time.Second, "the containers to be exactly the 2 ready instances of the last revision", func() bool {
				svc, err := p.client.Service(ctx, "web")
				if err != nil {
					return false
				}
				want = want[:0]
				for _, in := range svc.Instances {
					if in.Revision != last.To || !in.Ready {
						return false
					}
					want = append(want, in.ID)
				}
				have, states = have[:0], states[:0]
				ok := true
				for _, c := range containersOf(t, state) {
					ok = ok && c.State == "running" && c.Labels[docker.LabelRevision] == fmt.Sprint(last.To)
					have = append(have, c.Labels[docker.LabelInstance])
					states = append(states, c.State)
				}
				slices.Sort(have)
				slices.Sort(want)
				return ok && len(want) == 2 && slices.Equal(have, want)
			})
			assertServes(t, listen, fmt.Sprintf("v%d", last.To))
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("daemon exit after SIGINT: %v\n%s", err, p.log)
			}
			for _, c := range containersOf(t, state) {
				if c.State == "running" {
					t.Errorf("container %s still runs after shutdown with --stop-instances", c.Labels[docker.LabelInstance])
				}
			}
		})
	}
}
