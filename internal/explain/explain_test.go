package explain

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

type output string

func (o output) Logs(_ context.Context, _ string, _ bool, w io.Writer) error {
	_, err := io.WriteString(w, string(o))
	return err
}

type broken struct{}

func (broken) Logs(context.Context, string, bool, io.Writer) error { return errors.New("gone") }

func TestTailKeepsTheLastLinesRedacted(t *testing.T) {
	out := output("one\ntwo\nthree\nfour\nfive\nsix token=hunter2\n")
	got := Tail(context.Background(), out, "i", func(s string) string { return strings.ReplaceAll(s, "hunter2", "[redacted]") })
	if want := "two | three | four | five | six token=[redacted]"; got != want {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
	if got := Tail(context.Background(), output(strings.Repeat("x", 1000)), "i", nil); len([]rune(got)) != TailChars+1 {
		t.Errorf("a long line: %d characters, want %d and an ellipsis", len([]rune(got)), TailChars)
	}
	if got := Tail(context.Background(), broken{}, "i", nil); got != "" {
		t.Errorf("unreadable output: %q", got)
	}
}

func TestMessage(t *testing.T) {
	for _, c := range [][3]string{{"exited with code 3", "a | b", "exited with code 3; last output: a | b"},
		{"exited", "", "exited"}, {"", "a", "last output: a"}} {
		if got := Message(c[0], c[1]); got != c[2] {
			t.Errorf("Message(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
