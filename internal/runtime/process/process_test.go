package process

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/runtimetest"
)

// demoApp is the demo app (examples/demoapp), built once by TestMain.
var demoApp string

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		os.Exit(runDaemonHelper(dir))
	}
	tmp, err := os.MkdirTemp("", "cutover-process-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoApp = filepath.Join(tmp, "demoapp")
	build := exec.Command("go", "build", "-o", demoApp, "github.com/cutover/cutover/examples/demoapp")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build examples/demoapp: %v\n%s", err, out)
		os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// testOptions are the defaults with faster polling, so adoption tests do not wait long.
var testOptions = Options{PollInterval: 20 * time.Millisecond}

// newTestDriver returns a driver over dir that is closed, and whose recorded processes are
// killed, when t ends.
func newTestDriver(t *testing.T, dir string, opts Options) *Driver {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(dir, logger, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		d.Close()
		killRecorded(t, dir)
	})
	return d
}

// killRecorded kills the process group of every live process recorded in dir.
func killRecorded(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "instances", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var r record
		if json.Unmarshal(b, &r) == nil && running(r.PID, r.StartTicks) {
			t.Logf("cleanup: killing process group %d of %s", r.PGID, r.Spec.ID)
			syscall.Kill(-r.PGID, syscall.SIGKILL)
		}
	}
}

// appSpec runs the demo app with env.
func appSpec(env map[string]string) runtime.InstanceSpec {
	return runtime.InstanceSpec{Command: demoApp, Env: env, StopGrace: 5 * time.Second}
}

func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, dir string) runtime.Driver {
			return newTestDriver(t, dir, testOptions)
		},
		App: func(t *testing.T, env map[string]string) runtime.InstanceSpec {
			return appSpec(env)
		},
	})
}

var httpClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// httpGet returns the status code and body of GET http://addr/.
func httpGet(addr string) (int, string, error) {
	resp, err := httpClient.Get("http://" + addr + "/")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitFor polls cond every 20ms for up to 20s.
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

// waitServing waits until id runs and answers GET / with 200, and returns its status.
func waitServing(t *testing.T, d *Driver, id string) runtime.Status {
	t.Helper()
	var st runtime.Status
	waitFor(t, id+" to serve", func() bool {
		var err error
		st, err = d.Status(t.Context(), id)
		if err != nil || st.State != runtime.StateRunning {
			return false
		}
		code, _, err := httpGet(st.Addr)
		return err == nil && code == http.StatusOK
	})
	return st
}
