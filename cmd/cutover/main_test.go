package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cutover/cutover/internal/testbin"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"cutover": main})
}

// TestScripts runs the CLI end to end (cmd/cutover/testdata/script/*.txtar): a real daemon
// in the background, the real demo app as the service, real HTTP through the proxy.
func TestScripts(t *testing.T) {
	demoapp := testbin.Demoapp(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DEMOAPP", demoapp)
			env.Setenv("CUTOVER_STATE", filepath.Join(env.WorkDir, "state"))
			for _, name := range []string{"ROUTE", "ROUTE2"} {
				addr, err := freeAddr()
				if err != nil {
					return err
				}
				env.Setenv(name, addr)
			}
			// Instances outlive their daemon by design: end those of this script with it.
			env.Defer(func() { killProcessesIn(env.WorkDir) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitapi":  waitAPI,
			"httpget":  httpGet,
			"exits":    exits,
			"holdport": holdPort,
		},
	})
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// exits runs a command and requires its exit code: exits CODE PROGRAM [ARGS...].
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits %q: want a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("run %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// holdPort listens on ADDR until the script ends, as another program holding a port would.
func holdPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdport ADDR")
	}
	ln, err := net.Listen("tcp", args[0])
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
}

// waitAPI waits until the daemon has written its address file and answers.
func waitAPI(ts *testscript.TestScript, neg bool, args []string) {
	state := ts.Getenv("CUTOVER_STATE")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(state, "api.addr"))
		if err == nil {
			resp, err := http.Get("http://" + strings.TrimSpace(string(b)) + "/healthz")
			if err == nil {
				resp.Body.Close()
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("daemon did not start within 20s")
}

// httpGet GETs a URL and writes the status line and body to stdout: httpget URL [HEADER:VALUE].
func httpGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: httpget URL [Header:Value]")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", args[0], nil)
	ts.Check(err)
	for _, h := range args[1:] {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if neg {
		if err == nil && resp.StatusCode < 500 {
			ts.Fatalf("GET %s: status %d, want failure", args[0], resp.StatusCode)
		}
		return
	}
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write([]byte(resp.Status + "\n" + string(body)))
}

// killProcessesIn kills (SIGKILL) every process whose working directory is dir or below it:
// the instances a script's daemons started there.
func killProcessesIn(dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, link := range procs {
		cwd, err := os.Readlink(link)
		if err != nil {
			continue
		}
		cwd = strings.TrimSuffix(cwd, " (deleted)")
		if cwd != dir && !strings.HasPrefix(cwd, dir+"/") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(link)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
