//go:build unix

package health

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/procgroup/proctest"
	"github.com/cutover/cutover/internal/spec"
)

// assertGone fails unless the process whose pid is in pidFile has exited.
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("parse pid %q: %v", b, err)
	}
	// The kill is asynchronous to us; give the kernel a moment to reap it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if proctest.Gone(pid) {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of the timed-out probe still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCheckExecTimeoutKills(t *testing.T) {
	pidFile := t.TempDir() + "/pid"
	// The trailing "; true" keeps sh as the parent of sleep, whose stdout is the probe's pipe.
	p := spec.Probe{
		Exec:    &spec.ExecProbe{Command: []string{"sh", "-c", "sleep 30 & echo $! > " + pidFile + "; wait; true"}},
		Timeout: spec.Duration(200 * time.Millisecond),
	}
	begin := time.Now()
	err := Check(context.Background(), p, Target{})
	checkErr(t, err, "timeout after 200ms")
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("Check returned after %v; the command was not killed at its timeout", d)
	}
	assertGone(t, pidFile)
}

// TestCheckExecRedactsOutput runs an exec probe that prints a secret of its env and fails:
// the error quotes the output with the target's secrets hidden, and still wraps the exit.
func TestCheckExecRedactsOutput(t *testing.T) {
	const secret = "tok-unit-8d7c6b5a"
	p := spec.Probe{Exec: &spec.ExecProbe{Command: []string{"sh", "-c", "echo token=$API_TOKEN; exit 2"}}}
	target := Target{Env: map[string]string{"API_TOKEN": secret},
		Redact: func(s string) string { return strings.ReplaceAll(s, secret, "[redacted]") }}
	err := Check(context.Background(), p, target)
	if err == nil || !strings.Contains(err.Error(), "token=[redacted]") || strings.Contains(err.Error(), secret) {
		t.Fatalf("Check: %v, want the output with the secret redacted", err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("Check: %v does not wrap the exit status 2", err)
	}
}
