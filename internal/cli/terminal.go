package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text the CLI prints comes in part from the daemon: names, reasons, messages, flag values,
// an app's log lines, which a client or an app may have chosen. Printed raw, a control
// character in it could move the cursor, rewrite earlier lines, retitle the terminal or start
// a forged row. The text output goes through a terminalWriter, and table cells through
// cell.

// terminalWriter writes text to w with its control characters escaped: C0 controls but
// newline and tab, DEL and the C1 controls (U+0080-U+009F) as \xNN or \u00NN, and bytes that
// are not UTF-8 as \xNN. A rune split across writes is held until it is whole.
type terminalWriter struct {
	w    io.Writer
	held []byte // the start of a rune cut by the end of the last write
}

func newTerminalWriter(w io.Writer) *terminalWriter { return &terminalWriter{w: w} }

func (t *terminalWriter) Write(p []byte) (int, error) {
	data := p
	if len(t.held) > 0 {
		data = append(t.held, p...)
		t.held = nil
	}
	var out []byte
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 && !utf8.FullRune(data[i:]) {
			t.held = append([]byte(nil), data[i:]...)
			break
		}
		out = appendSafe(out, data[i:i+size], r, size)
		i += size
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a rune the last write left unfinished, escaped as the bytes it is.
func (t *terminalWriter) Flush() error {
	if len(t.held) == 0 {
		return nil
	}
	var out []byte
	for _, b := range t.held {
		out = fmt.Appendf(out, `\x%02x`, b)
	}
	t.held = nil
	_, err := t.w.Write(out)
	return err
}

// appendSafe appends the rune r, encoded as b (size bytes; an invalid byte when r is
// RuneError of size 1), escaped if it is a control character or not UTF-8.
func appendSafe(out, b []byte, r rune, size int) []byte {
	switch {
	case r == utf8.RuneError && size == 1:
		return fmt.Appendf(out, `\x%02x`, b[0])
	case r == '\n' || r == '\t':
		return append(out, b...)
	case r < 0x20 || r == 0x7f:
		return fmt.Appendf(out, `\x%02x`, r)
	case r >= 0x80 && r <= 0x9f:
		return fmt.Appendf(out, `\u%04x`, r)
	}
	return append(out, b...)
}

// cellEscaper escapes the characters that would end a table cell or row.
var cellEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

// cell is s as one table cell: newlines, carriage returns and tabs escaped (the
// terminalWriter escapes the other control characters).
func cell(s string) string { return cellEscaper.Replace(s) }

// control writes a terminal control sequence of the CLI's own (not text from the daemon)
// to the standard output, past the escaping of the text output.
func (a *app) control(seq string) {
	w := a.stdout
	if a.term != nil {
		w = a.term.w
	}
	_, _ = io.WriteString(w, seq)
}
