package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// logLine is one line of `logs -o json`.
type logLine struct {
	Instance string `json:"instance"`
	Line     string `json:"line"`
}

// jsonLinesWriter turns the daemon's log stream, "<instance> | <text>" lines, into JSON
// lines. A line cut by the end of a write is held until it is whole (see Flush).
type jsonLinesWriter struct {
	w    io.Writer
	held []byte
}

func (j *jsonLinesWriter) Write(p []byte) (int, error) {
	j.held = append(j.held, p...)
	for {
		i := bytes.IndexByte(j.held, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := j.emit(string(j.held[:i])); err != nil {
			return 0, err
		}
		j.held = j.held[i+1:]
	}
}

// Flush writes a last line that had no newline.
func (j *jsonLinesWriter) Flush() error {
	if len(j.held) == 0 {
		return nil
	}
	line := string(j.held)
	j.held = nil
	return j.emit(line)
}

func (j *jsonLinesWriter) emit(text string) error {
	id, line, ok := strings.Cut(text, " | ")
	if !ok {
		id, line = "", text
	}
	_, err := fmt.Fprintln(j.w, compactJSON(logLine{Instance: id, Line: line}))
	return err
}
