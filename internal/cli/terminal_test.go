package cli

import (
	"bytes"
	"testing"
)

// TestTerminalWriterEscapesControls: what reaches the terminal has no control character but
// newline and tab, whatever the daemon sent, and text that is plain UTF-8 passes unchanged,
// also when a write cuts a rune in two.
func TestTerminalWriterEscapesControls(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"revision 1 → 2 café\tok\n"}, "revision 1 → 2 café\tok\n"},
		{"escape sequences", []string{"a\x1b[2J\x1b]0;pwned\x07b"}, `a\x1b[2J\x1b]0;pwned\x07b`},
		{"carriage return and backspace", []string{"ok\rFAIL\b"}, `ok\x0dFAIL\x08`},
		{"DEL and NUL", []string{"a\x7fb\x00"}, `a\x7fb\x00`},
		{"C1 CSI as UTF-8", []string{"a\u009b2Jb"}, `a\u009b2Jb`},
		{"bytes that are not UTF-8", []string{"a\x9b2J\xffb"}, `a\x9b2J\xffb`},
		{"rune cut across writes", []string{"caf\xc3", "\xa9 \xe2\x86", "\x92"}, "café →"},
		{"C1 cut across writes", []string{"a\xc2", "\x9bb"}, `a\u009bb`},
		{"unfinished rune at the end", []string{"a\xe2\x86"}, `a\xe2\x86`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		w := newTerminalWriter(&b)
		for _, s := range tt.writes {
			if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
				t.Fatalf("%s: Write(%q) = %d, %v", tt.name, s, n, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRowKeepsEachCellOnItsRow: a cell holding a newline or a tab cannot start a row or a
// column of its own.
func TestRowKeepsEachCellOnItsRow(t *testing.T) {
	var b bytes.Buffer
	tw := newTable(&b)
	row(tw, "ID", "BY")
	row(tw, "1", "mallory\n2\troot")
	tw.Flush()
	want := "ID  BY\n1   mallory\\n2\\troot\n"
	if got := b.String(); got != want {
		t.Errorf("table: got %q, want %q", got, want)
	}
}
