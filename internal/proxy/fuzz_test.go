package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzRouteMatch builds a route table from fuzzed routes and checks that looking up a fuzzed
// host and path never panics and finds what refMatch, a brute-force reading of Route's
// documented rules, finds. Each line of routes is one route: "hosts|paths" (comma-separated,
// either part may be empty), on listener 1 when the line starts with '!' and listener 0
// otherwise. Routes are admitted as SetRoute admits them: normalized, invalid or conflicting
// ones left out.
func FuzzRouteMatch(f *testing.F) {
	seeds := []struct {
		routes, host, path string
		slot               uint8
	}{
		{"a.example|/api,/\n*.example|/\n|/", "a.example", "/api/x", 0},
		{"a.example|/api\n*.example|/\n|/", "A.Example:8080", "/apix", 0},
		{"*.b.example|/x\n*.example|/\n|/static/", "a.b.example", "/y", 0},
		{"*.b.example|/x\n*.example|/y\n|/", "c.a.b.example.", "/y/z", 0},
		{"!a.example|/\na.example|/api/", "a.example", "/api/", 1},
		{"[::1]|/\n|/a", "[::1]:80", "/a", 0},
		{"|/a/,/a\n|/a/b", "", "", 0},
		{"x|\n*..|/", "a..", "/", 0},
	}
	for _, s := range seeds {
		f.Add(s.routes, s.host, s.path, s.slot)
	}
	f.Fuzz(func(t *testing.T, spec, host, path string, slot uint8) {
		routes := fuzzRoutes(spec)
		slots := map[string]int{"l0": 0, "l1": 1}
		svcs := make(map[string]*serviceSlot, len(routes))
		for name := range routes {
			svcs[name] = &serviceSlot{name: name}
		}
		table := buildTable(routes, slots, svcs)
		s := int(slot % 3) // slot 2 has no routes
		got := table.lookup(s, host, path)
		want, wantPrefix := refMatch(routes, fmt.Sprintf("l%d", s), host, path)
		switch {
		case got == nil && want == "":
		case got == nil:
			t.Fatalf("lookup(%d, %q, %q) = no route, want %s (prefix %q)", s, host, path, want, wantPrefix)
		case got.svc.name != want || got.prefix != wantPrefix:
			t.Fatalf("lookup(%d, %q, %q) = %s (prefix %q), want %q (prefix %q)",
				s, host, path, got.svc.name, got.prefix, want, wantPrefix)
		}
	})
}

// fuzzRoutes parses FuzzRouteMatch's route lines into the routes SetRoute would accept.
func fuzzRoutes(spec string) map[string]Route {
	routes := map[string]Route{}
	for i, line := range strings.SplitN(spec, "\n", 9) {
		if i == 8 {
			break
		}
		r := Route{Service: fmt.Sprintf("s%d", i), Listen: "l0"}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			r.Listen, line = "l1", rest
		}
		hosts, paths, _ := strings.Cut(line, "|")
		if hosts != "" {
			r.Hosts = strings.Split(hosts, ",")
		}
		if paths != "" {
			r.Paths = strings.Split(paths, ",")
		}
		r, err := r.normalize()
		if err != nil {
			continue
		}
		conflict := false
		for _, other := range routes {
			conflict = conflict || Conflict(r, other)
		}
		if !conflict {
			routes[r.Service] = r
		}
	}
	return routes
}

// refMatch returns the service and prefix a request for host and path on listen should reach,
// or "" for none, by trying every (route, host pattern, path) of that listener and keeping
// the best by (host kind, wildcard suffix length, prefix length): an exact host beats a
// wildcard, a longer wildcard suffix beats a shorter one, any host comes last, and within a
// host pattern the longest segment-boundary prefix wins.
func refMatch(routes map[string]Route, listen, host, path string) (service, prefix string) {
	host = refHost(host)
	if path == "" {
		path = "/"
	}
	type rank struct{ kind, suffix, prefix int }
	var best rank
	found := false
	for name, r := range routes {
		if r.Listen != listen {
			continue
		}
		var kinds []rank
		if len(r.Hosts) == 0 {
			kinds = append(kinds, rank{kind: 1})
		}
		for _, h := range r.Hosts {
			if suffix, ok := strings.CutPrefix(h, "*."); ok {
				if strings.HasSuffix(host, "."+suffix) {
					kinds = append(kinds, rank{kind: 2, suffix: len(suffix)})
				}
			} else if h == host {
				kinds = append(kinds, rank{kind: 3})
			}
		}
		for _, k := range kinds {
			for _, p := range r.Paths {
				if !refPrefix(path, p) {
					continue
				}
				k.prefix = len(p)
				if !found || k.kind > best.kind || (k.kind == best.kind && (k.suffix > best.suffix ||
					(k.suffix == best.suffix && k.prefix > best.prefix))) {
					best, found, service, prefix = k, true, name, p
				}
			}
		}
	}
	return service, prefix
}

// refHost is the host a request names: its port removed (an IPv6 literal unbracketed), in
// lower case, without a trailing dot.
func refHost(h string) string {
	if strings.HasPrefix(h, "[") {
		if end := strings.Index(h, "]"); end >= 0 {
			h = h[1:end]
		}
	} else if strings.Count(h, ":") == 1 {
		h, _, _ = strings.Cut(h, ":")
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// refPrefix reports whether p is a prefix of path ending at a segment boundary.
func refPrefix(path, p string) bool {
	if path == p {
		return true
	}
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(path, p)
	}
	return strings.HasPrefix(path, p+"/")
}

// FuzzProxyRequest writes fuzzed raw bytes to a real proxy listener in front of a raw upstream
// and checks that the proxy answers and closes within a deadline once the client stops sending,
// that every request reaching the upstream has one framing, no hop-by-hop headers and the
// proxy's X-Forwarded-For, and that nothing reaches it when the first request's header has
// both Content-Length and Transfer-Encoding or Content-Length twice. One proxy and upstream
// serve every input of a fuzz process.
func FuzzProxyRequest(f *testing.F) {
	const host = "Host: a.example\r\n"
	for _, s := range []string{
		"GET / HTTP/1.1\r\n" + host + "\r\n",
		"GET /x?y=1 HTTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "Connection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\n" +
			"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nTe: trailers, gzip\r\n" +
			"X-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "X-A: 1\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n Content-Length: 3\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nab\nc\n\r\n0\r\n\r\n" +
			"GET / HTTP/1.1\r\n" + host + "\r\n" +
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"\r\nOPTIONS * HTTP/1.1\r\n" + host + "\r\n",
	} {
		f.Add([]byte(s))
	}
	up := newRawUpstream(f)
	p := startProxy(f, Config{ReadHeaderTimeout: 2 * time.Second})
	// Small limits, so that inputs also cross the body cap (413) and the concurrency queue.
	addr := route(f, p, Route{Service: "web", Limits: Limits{MaxBody: 1 << 10, MaxConcurrency: 4, QueueTimeout: time.Second}})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "up", Addr: up.addr}}}}, 0)
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 16<<10 {
			return
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(in)
		if ambiguousHead(in) {
			// Its head is complete, so the proxy must refuse it at once; the upstream (which
			// always answers 200) must not have answered it. Closing our side first would
			// cancel a forwarded request before the upstream could count it, and a late
			// count would blame the next input, so the first answer decides.
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			switch {
			case isTimeout(err):
				t.Fatalf("the proxy did not answer the ambiguous request %q within 5s", in)
			case err == nil && resp.StatusCode < 400:
				t.Fatalf("ambiguous request %q answered %d, want a refusal", in, resp.StatusCode)
			}
		} else {
			// Closing our side cancels the requests in flight: first read the answers until
			// 100ms pass without one, so that complete requests reach the upstream.
			buf := make([]byte, 4096)
			for {
				_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_ = c.(*net.TCPConn).CloseWrite()
			if _, err := io.Copy(io.Discard, c); isTimeout(err) {
				t.Fatalf("the proxy neither answered nor closed within 5s of the request %q", in)
			}
		}
		if msg := up.problem(); msg != "" {
			t.Fatalf("a request reached the upstream as %s (input %q or the one before)", msg, in)
		}
	})
}

// ambiguousHead reports whether the first request header in b (CRLF lines, leading empty lines
// skipped) has Content-Length twice or both Content-Length and Transfer-Encoding.
func ambiguousHead(b []byte) bool {
	s := strings.TrimLeft(string(b), "\r\n")
	head, _, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		return false
	}
	cl, te := 0, 0
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "content-length":
			cl++
		case "transfer-encoding":
			te++
		}
	}
	return cl > 1 || (cl > 0 && te > 0)
}

// rawUpstream reads the raw header of each request it receives, records the first problem
// it finds in one, answers 200 and closes the connection.
type rawUpstream struct {
	addr  string
	mu    sync.Mutex
	seqs  map[string]bool // X-Fuzz-Seq values seen
	bad   string
	conns map[net.Conn]struct{}
}

func newRawUpstream(tb testing.TB) *rawUpstream {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	u := &rawUpstream{addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		_ = ln.Close()
		u.mu.Lock()
		for c := range u.conns { // idle connections the transport dialed and never used
			_ = c.Close()
		}
		u.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns[c] = struct{}{}
			u.mu.Unlock()
			wg.Go(func() {
				u.serve(c)
				u.mu.Lock()
				delete(u.conns, c)
				u.mu.Unlock()
			})
		}
	})
	return u
}

func (u *rawUpstream) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewReader(bufio.NewReader(c))
	var lines []string
	for {
		l, err := tp.ReadLine()
		if err != nil {
			return
		}
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	u.noteSeq(lines)
	if msg := checkUpstreamHead(lines); msg != "" {
		u.mu.Lock()
		if u.bad == "" {
			u.bad = msg
		}
		u.mu.Unlock()
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

// noteSeq records the X-Fuzz-Seq value of a request's header lines, if it has one.
func (u *rawUpstream) noteSeq(lines []string) {
	for _, l := range lines {
		if name, value, ok := strings.Cut(l, ":"); ok && strings.EqualFold(name, "X-Fuzz-Seq") {
			u.mu.Lock()
			if u.seqs == nil {
				u.seqs = map[string]bool{}
			}
			u.seqs[strings.TrimSpace(value)] = true
			u.mu.Unlock()
		}
	}
}

// sawSeq reports whether a request with this X-Fuzz-Seq value reached the upstream.
func (u *rawUpstream) sawSeq(seq string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seqs[seq]
}

// problem returns and clears the first problem recorded.
func (u *rawUpstream) problem() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	msg := u.bad
	u.bad = ""
	return msg
}

// checkUpstreamHead returns what is wrong with a forwarded request's header lines, or "".
func checkUpstreamHead(lines []string) string {
	if len(lines) == 0 {
		return "an empty header"
	}
	h := map[string][]string{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
			return fmt.Sprintf("a malformed line %q in %q", l, lines)
		}
		k := http.CanonicalHeaderKey(name)
		h[k] = append(h[k], strings.TrimSpace(value))
	}
	switch {
	case len(h["Content-Length"]) > 1 || len(h["Transfer-Encoding"]) > 1:
		return fmt.Sprintf("a repeated framing header in %q", lines)
	case len(h["Content-Length"]) > 0 && len(h["Transfer-Encoding"]) > 0:
		return fmt.Sprintf("two framings in %q", lines)
	case len(h["Transfer-Encoding"]) > 0 && h["Transfer-Encoding"][0] != "chunked":
		return fmt.Sprintf("transfer-encoding %q", h["Transfer-Encoding"])
	case len(h["X-Forwarded-For"]) != 1 || h["X-Forwarded-For"][0] != "127.0.0.1":
		return fmt.Sprintf("X-Forwarded-For %q", h["X-Forwarded-For"])
	case len(h["Host"]) != 1:
		return fmt.Sprintf("Host %q", h["Host"])
	}
	for _, k := range []string{"Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate"} {
		if _, ok := h[k]; ok {
			return fmt.Sprintf("hop-by-hop %s in %q", k, lines)
		}
	}
	if v, ok := h["Connection"]; ok && (len(v) != 1 || !strings.EqualFold(v[0], "upgrade") || len(h["Upgrade"]) != 1) {
		return fmt.Sprintf("Connection %q (Upgrade %q)", v, h["Upgrade"])
	}
	if v, ok := h["Te"]; ok && (len(v) != 1 || v[0] != "trailers") {
		return fmt.Sprintf("Te %q", v)
	}
	return ""
}
