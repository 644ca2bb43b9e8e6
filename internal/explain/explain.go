// Package explain says why an instance failed, in words an operator can act on: what the
// runtime and the probes said, and the last lines of the instance's own output, redacted of
// its secrets. The fleet puts it in the instance's message, so that a deployment's reason,
// `status`, `deploy --wait`, the events and the notifications carry it. It only reads output.
package explain

import (
	"context"
	"io"
	"strings"
	"time"
)

// Output is where an instance's output is read (runtime.Driver's Logs).
type Output interface {
	Logs(ctx context.Context, id string, follow bool, w io.Writer) error
}

// Tail bounds: the lines kept, the characters shown, and what is read at most.
const (
	TailLines = 5
	TailChars = 400
	readLimit = 256 << 10
	readTime  = 2 * time.Second
)

// Tail returns the last TailLines lines of instance id's output (at most TailChars
// characters, joined with " | "), with redact applied first (nil: none); "" when there is no
// output or it cannot be read.
func Tail(ctx context.Context, out Output, id string, redact func(string) string) string {
	ctx, cancel := context.WithTimeout(ctx, readTime)
	defer cancel()
	var buf tailBuffer
	if err := out.Logs(ctx, id, false, &buf); err != nil && len(buf.b) == 0 {
		return ""
	}
	text := string(buf.b)
	if redact != nil {
		text = redact(text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) > TailLines {
		lines = lines[len(lines)-TailLines:]
	}
	s := strings.TrimSpace(strings.Join(lines, " | "))
	if r := []rune(s); len(r) > TailChars {
		s = "…" + string(r[len(r)-TailChars:])
	}
	return s
}

// Message adds the output's tail to msg: "exited with code 3; last output: a | b".
func Message(msg, tail string) string {
	switch {
	case tail == "":
		return msg
	case msg == "":
		return "last output: " + tail
	}
	return msg + "; last output: " + tail
}

// tailBuffer keeps the last readLimit bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - readLimit; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}
