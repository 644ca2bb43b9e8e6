//go:build unix

package health

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of the timed-out probe still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isZombie reports whether pid has exited but is not yet reaped by its (orphaned) parent.
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
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
