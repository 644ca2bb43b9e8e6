// Package h1 is the proxy's own HTTP/1.1 server loop for plain (not TLS) listeners: a strict
// request parser, pooled buffers per connection and a response writer, serving an ordinary
// http.Handler without net/http's per-request machinery. It takes only the plainest requests:
// HTTP/1.1, origin-form target, one valid Host, no body or a Content-Length body, no Upgrade,
// no Expect, no Transfer-Encoding, every line ending in CRLF, every byte where the grammar
// allows it. Anything else, at a request boundary, hands the connection with its unread bytes
// to net/http (Server.Handoff), which answers it as it always did: so this loop accepts a
// strict subset of what net/http accepts, and refuses nothing itself.
package h1

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
)

// Outcome is what Parse made of the bytes it was given.
type Outcome uint8

const (
	// Incomplete: the head has not ended yet; read more.
	Incomplete Outcome = iota
	// Ready: a request head this loop serves.
	Ready
	// Other: not a request this loop serves (malformed, ambiguous, or plain but beyond its
	// subset); net/http must see it.
	Other
)

// Head is a parsed request head. Its strings share one allocation.
type Head struct {
	Method, Target string
	URL            url.URL
	Host           string
	Header         http.Header
	ContentLength  int64
	Close          bool // Connection: close
}

var crlf2 = []byte("\r\n\r\n")

// Parse reads the request head at the start of b, which holds at most max bytes of it. It
// returns the head and its length in b when Ready.
func Parse(b []byte, max int) (h Head, n int, o Outcome) {
	end := bytes.Index(b, crlf2)
	if end < 0 {
		if len(b) >= max || bareLF(b) {
			return h, 0, Other
		}
		return h, 0, Incomplete
	}
	n = end + 4
	if n > max {
		return h, 0, Other
	}
	s := string(b[:end])
	line, rest := cutLine(s)
	if !h.requestLine(line) {
		return h, 0, Other
	}
	if !h.fields(rest) {
		return h, 0, Other
	}
	return h, n, Ready
}

// bareLF reports whether b holds an LF not preceded by CR: such a head never ends in CRLFCRLF.
func bareLF(b []byte) bool {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// cutLine splits s at its first CRLF.
func cutLine(s string) (line, rest string) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' && s[i+1] == '\n' {
			return s[:i], s[i+2:]
		}
	}
	return s, ""
}

// requestLine parses "METHOD SP origin-form SP HTTP/1.1".
func (h *Head) requestLine(l string) bool {
	i := 0
	for i < len(l) && 'A' <= l[i] && l[i] <= 'Z' {
		i++
	}
	if i == 0 || i > 16 || i >= len(l) || l[i] != ' ' {
		return false
	}
	h.Method = l[:i]
	rest := l[i+1:]
	const version = " HTTP/1.1"
	if len(rest) <= len(version) || rest[len(rest)-len(version):] != version {
		return false
	}
	h.Target = rest[:len(rest)-len(version)]
	return h.target(h.Target)
}

// target parses an origin-form request target into h.URL as url.ParseRequestURI would.
func (h *Head) target(t string) bool {
	if len(t) == 0 || t[0] != '/' {
		return false
	}
	q := len(t)
	simple := true
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		if i < q {
			if c == '?' {
				q = i
			} else if !pathChar[c] {
				simple = false
			}
		} else if c == '#' {
			simple = false
		}
	}
	if !simple {
		u, err := url.ParseRequestURI(t)
		if err != nil {
			return false
		}
		h.URL = *u
		return true
	}
	h.URL.Path = t[:q]
	if q < len(t) {
		h.URL.RawQuery = t[q+1:]
		h.URL.ForceQuery = q+1 == len(t)
	}
	return true
}

// fields parses the header fields in s (CRLF-separated lines, no final CRLF).
func (h *Head) fields(s string) bool {
	lines := 0
	if len(s) > 0 {
		lines = 1 + countCRLF(s)
	}
	h.Header = make(http.Header, lines)
	vals := make([]string, lines)
	hosts, lengths := 0, 0
	for i := 0; len(s) > 0; i++ {
		var l string
		l, s = cutLine(s)
		k, v, ok := field(l)
		if !ok {
			return false
		}
		switch k {
		case "Host":
			hosts++
			if !validHost(v) {
				return false
			}
			h.Host = v
			continue // net/http moves Host out of the header
		case "Content-Length":
			lengths++
			n, ok := parseLength(v)
			if !ok {
				return false
			}
			h.ContentLength = n
		case "Transfer-Encoding", "Upgrade", "Expect", "Http2-Settings":
			return false
		case "Connection":
			if hasToken(v, "close") {
				h.Close = true
			}
		}
		if vv, ok := h.Header[k]; ok {
			h.Header[k] = append(vv, v)
			continue
		}
		vals[i] = v
		h.Header[k] = vals[i : i+1 : i+1]
	}
	return hosts == 1 && lengths <= 1
}

func countCRLF(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' && s[i+1] == '\n' {
			n++
		}
	}
	return n
}

// field parses "name: value" (no white space before the colon) into the canonical name and
// the value without the white space around it.
func field(l string) (k, v string, ok bool) {
	colon := -1
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == ':' {
			colon = i
			break
		}
		if !tchar[c] {
			return "", "", false
		}
	}
	if colon <= 0 {
		return "", "", false
	}
	k, v = l[:colon], l[colon+1:]
	for i := 0; i < len(v); i++ {
		if !valueChar[v[i]] {
			return "", "", false
		}
	}
	v = trimOWS(v)
	if !canonical(k) {
		k = textproto.CanonicalMIMEHeaderKey(k)
	}
	return k, v, true
}

func trimOWS(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

func validHost(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !hostChar[v[i]] {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length of 1 to 18 digits.
func parseLength(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds token (lower case), ignoring case.
func hasToken(v, token string) bool {
	for len(v) > 0 {
		var t string
		if i := indexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, ""
		}
		if equalFold(trimOWS(t), token) {
			return true
		}
	}
	return false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
