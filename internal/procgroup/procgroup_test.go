//go:build unix

package procgroup

import (
	"bytes"
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
)

// readPID reads the pid a test command wrote to file.
func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("parse pid %q: %v", b, err)
	}
	return pid
}

// assertGone fails unless pid exits soon; the kill is asynchronous to the test.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !proctest.Gone(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still runs", pid)
		}
	}
}

func TestCommandKillsTheGroupWhenContextEnds(t *testing.T) {
	pidFile := t.TempDir() + "/pid"
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// "; true" keeps sh as the parent of sleep, which holds the output pipe open.
	cmd := Command(ctx, "sh", "-c", "sleep 30 & echo $! > "+pidFile+"; wait; true")
	cmd.WaitDelay = 500 * time.Millisecond
	_, err := CombinedOutput(cmd, 64)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Errorf("CombinedOutput of a command past its context: %v, want killed by a signal", err)
	}
	assertGone(t, readPID(t, pidFile))
}

func TestCombinedOutputKeepsTheTail(t *testing.T) {
	script := `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; echo err-last >&2`
	out, err := CombinedOutput(Command(context.Background(), "sh", "-c", script), 20)
	if err != nil {
		t.Fatalf("CombinedOutput: %v", err)
	}
	if want := "line 1998\nline 1999\nerr-last\n"; string(out) != want[len(want)-20:] {
		t.Errorf("CombinedOutput kept %q, want the last 20 bytes of %q", out, want)
	}
}

func TestTailWrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"under the limit", []string{"ab", "cd"}, "abcd"},
		{"spills over", []string{"abc", "def"}, "cdef"},
		{"one write past the limit", []string{"x", "123456"}, "3456"},
		{"exactly the limit", []string{"wxyz"}, "wxyz"},
	} {
		tl := &tail{max: 4}
		for _, w := range tc.writes {
			if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write(%q) = %d, %v", tc.name, w, n, err)
			}
		}
		if got := string(tl.buf); got != tc.want {
			t.Errorf("%s: kept %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSignalReachesTheWholeGroup(t *testing.T) {
	pidFile := t.TempDir() + "/pid"
	cmd := exec.Command("sh", "-c", "sleep 30 & echo $! > "+pidFile+"; wait")
	cmd.SysProcAttr = Attr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(pidFile); len(b) > 0 && bytes.HasSuffix(b, []byte("\n")) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the command wrote no pid")
		}
	}
	child := readPID(t, pidFile)
	if !Alive(cmd.Process.Pid) {
		t.Errorf("Alive(%d) = false for a running group", cmd.Process.Pid)
	}
	if err := Signal(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	<-waited
	assertGone(t, child)
	if err := Signal(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Errorf("Signal to a group that is gone: %v, want nil", err)
	}
}

func TestAliveIsFalseForAGroupThatExited(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = Attr()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid) {
		t.Errorf("Alive(%d) = true for a group whose only process exited and was reaped", cmd.Process.Pid)
	}
}

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		in     string
		n, max int
		want   string
	}{
		{"a\nb\nc\n", 2, 100, "b | c"},
		{"only\n", 5, 100, "only"},
		{"x\n0123456789", 5, 4, "…6789"},
		{"", 5, 100, ""},
	} {
		if got := LastLines(c.in, c.n, c.max); got != c.want {
			t.Errorf("LastLines(%q, %d, %d) = %q, want %q", c.in, c.n, c.max, got, c.want)
		}
	}
}
