package hooks

import (
	"bytes"
	"strings"
)

// completeLines is out as text, without its first line when out may have been cut at limit:
// a cut line could begin with the end of a secret, which redaction no longer recognises.
// (Output of one line longer than limit is kept: only its last 500 bytes are ever quoted.)
func completeLines(out []byte, limit int) string {
	if len(out) >= limit {
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			out = out[i+1:]
		}
	}
	return string(out)
}

// lastLines returns at most n trailing lines of s, at most max bytes, on one line.
func lastLines(s string, n, max int) string {
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
