package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// serveProcess is `cutover serve` as a real child process.
type serveProcess struct {
	cmd    *exec.Cmd
	client *api.Client
	log    *bytes.Buffer
}

func startServe(t *testing.T, state string, extra ...string) *serveProcess {
	t.Helper()
	return startServeEnv(t, state, nil, extra...)
}

// startServeEnv is startServe with env added to the daemon's environment.
func startServeEnv(t *testing.T, state string, env []string, extra ...string) *serveProcess {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	args := append([]string{"serve", "--state", state, "--listen", "127.0.0.1:0", "--addr-file", addrFile}, extra...)
	cmd := exec.Command(testbin.Cutover(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &serveProcess{cmd: cmd, client: api.NewClient(servedAt(t, state, addrFile)), log: &log}
	waitFor(t, 10*time.Second, "api healthy", func() bool { return p.client.Health(context.Background()) == nil })
	return p
}

// servedAt waits for a starting `cutover serve` to write its address file and returns the
// daemon's URL and the admin token it keeps in its state directory.
func servedAt(t *testing.T, state, addrFile string) (url, token string) {
	t.Helper()
	var addr string
	waitFor(t, 30*time.Second, "daemon address file", func() bool {
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	b, err := os.ReadFile(filepath.Join(state, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr, strings.TrimSpace(string(b))
}

// TestKill9MidDeploymentRecovers kills the daemon with SIGKILL at several points of a
// deployment, restarts it each time and checks the state is consistent: the deployment
// finishes, exactly the desired instances run, none is orphaned or duplicated.
func TestKill9MidDeploymentRecovers(t *testing.T) {
	app := testbin.Demoapp(t)
	for i, delay := range []time.Duration{150 * time.Millisecond, 900 * time.Millisecond, 1800 * time.Millisecond} {
		t.Run(fmt.Sprintf("kill after %s", delay), func(t *testing.T) {
			state := t.TempDir()
			mark := fmt.Sprintf("kill9-%d-%d", os.Getpid(), i)
			h := &harness{t: t, app: app}
			listen := freeAddr(t)
			spec := func(v string) string {
				return h.yaml(appSpec{Name: "web", Listen: listen, Version: v, Replicas: 2,
					Env: map[string]string{"TEST_MARK": mark, "STARTUP_DELAY": "700ms"}, Strategy: "rolling: {max_surge: 1, max_unavailable: 0}\n"})
			}
			p := startServe(t, state)
			ctx := context.Background()
			first, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v1")})
			if err != nil {
				t.Fatal(err)
			}
			waitDeployment(t, p.client, first.ID, "succeeded")
			second, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v2")})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = p.cmd.Wait()

			p2 := startServe(t, state, "--stop-instances")
			waitDeployment(t, p2.client, second.ID, "succeeded")
			waitFor(t, 20*time.Second, "exactly 2 ready v2 instances and 2 processes", func() bool {
				svc, err := p2.client.Service(ctx, "web")
				if err != nil || len(svc.Instances) != 2 {
					return false
				}
				for _, in := range svc.Instances {
					if in.Revision != 2 || !in.Ready {
						return false
					}
				}
				return len(markedProcesses(t, mark)) == 2
			})
			assertServes(t, listen, "v2")
			if err := p2.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if err := p2.cmd.Wait(); err != nil {
				t.Errorf("daemon exit after SIGINT: %v\n%s", err, p2.log)
			}
			if left := markedProcesses(t, mark); len(left) != 0 {
				t.Errorf("processes left after shutdown with --stop-instances: %v", left)
			}
		})
	}
}

func waitDeployment(t *testing.T, c *api.Client, id int64, want string) {
	t.Helper()
	var dep api.Deployment
	waitFor(t, 60*time.Second, fmt.Sprintf("deployment %d final", id), func() bool {
		var err error
		dep, err = c.Deployment(context.Background(), id)
		return err == nil && dep.Final()
	})
	if dep.Status != want {
		t.Fatalf("deployment %d: %s (%s), want %s", id, dep.Status, dep.Reason, want)
	}
}

// markedProcesses lists the pids of live processes whose environment holds TEST_MARK=mark.
func markedProcesses(t *testing.T, mark string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	needle := []byte("TEST_MARK=" + mark + "\x00")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append(env, 0), needle) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue // a zombie is gone
		}
		pids = append(pids, pid)
	}
	return pids
}
