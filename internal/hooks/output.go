package hooks

import "bytes"

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
