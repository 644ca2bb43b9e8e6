// Package procgroup starts commands in a process group of their own, so that a command and
// everything it started (a shell's children) are signalled as one: a one-shot command made
// by Command is killed with its whole group when its context ends, and a long-lived process
// (an instance of the process runtime) is signalled by its group id. CombinedOutput keeps a
// bounded tail of what a one-shot command printed. It does not supervise, restart or log.
package procgroup

import (
	"os/exec"
	"strings"
)

// CombinedOutput runs cmd, its stdout and stderr going to one buffer of which it keeps the
// last limit bytes, and returns them with Run's error. cmd's Stdout and Stderr must be nil.
// With a WaitDelay set on cmd, children that keep the output open after a kill do not hold
// up the return for longer than that delay.
func CombinedOutput(cmd *exec.Cmd, limit int) ([]byte, error) {
	out := &tail{max: limit}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	return out.buf, err
}

// tail keeps the last max bytes written to it. exec copies stdout and stderr from one
// goroutine when both are the same writer, and Run returns only after it finished.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// LastLines returns at most n trailing lines of a command's output s, joined on one line with
// " | ", and at most max bytes of them (cut at the front, marked with "…"): a short reason
// for an error message.
func LastLines(s string, n, max int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, " | ")
	if len(out) > max {
		out = "…" + out[len(out)-max:]
	}
	return out
}
