package proxy

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/proxy/h1"
)

// TestFastLoopHandsOffAmbiguous checks that the h1 loop serves none of the ambiguous or
// malformed requests of TestAmbiguousRequestsRejected and TestMoreAmbiguousRequestsRejected
// itself: each goes to net/http behind the guard, which refuses it (those tests, run against
// the loop by default, check the refusal end to end).
func TestFastLoopHandsOffAmbiguous(t *testing.T) {
	cases := append(append([]struct{ name, req string }{}, ambiguousRequests...), moreAmbiguousRequests...)
	if len(cases) != 33 {
		t.Fatalf("got %d ambiguous cases, want the 33 of the guard's tests", len(cases))
	}
	for _, c := range cases {
		if _, _, o := h1.Parse([]byte(c.req), 8<<10); o == h1.Ready {
			t.Errorf("%s: the h1 parser takes %q, want it handed to net/http", c.name, c.req)
		}
	}
	if _, _, o := h1.Parse([]byte("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"), 8<<10); o != h1.Ready {
		t.Errorf("a plain GET: got outcome %d, want Ready", o)
	}
}

// stdParse is net/http's server behind the guard, reading requests from in-memory
// connections: what the proxy did with every request before the h1 loop.
type stdParse struct {
	ln  *handoffListener
	got chan *http.Request
}

func newStdParse(tb testing.TB) *stdParse {
	s := &stdParse{
		ln:  &handoffListener{c: make(chan net.Conn), done: make(chan struct{}), addr: &net.TCPAddr{}},
		got: make(chan *http.Request, 1),
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			if guardOf(r.Context()).ambiguous() {
				s.got <- nil // refused by the guard
				return
			}
			s.got <- r
		}),
		ConnContext:       guardContext,
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.Serve(s.ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// parse sends head on a fresh connection and returns the request net/http's handler got, or
// nil when the server or the guard refused it.
func (s *stdParse) parse(tb testing.TB, head []byte) *http.Request {
	cli, srv := net.Pipe()
	defer cli.Close()
	_ = cli.SetDeadline(time.Now().Add(10 * time.Second))
	s.ln.give(srv)
	go func() { _, _ = cli.Write(head) }()
	answered := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, cli); close(answered) }()
	select {
	case r := <-s.got:
		return r
	case <-answered:
		select {
		case r := <-s.got: // the handler ran, then the connection ended
			return r
		default:
			return nil
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("net/http neither served nor refused %q", head)
	}
	return nil
}

// FuzzFastParse is the differential fuzzing of the h1 parser against net/http's server and
// the guard: a request head the h1 loop serves must be one net/http serves too (the guard not
// objecting), read the same way: method, target, URL, Host, header fields, Content-Length and
// Connection: close. (What h1 does not serve it hands to net/http, so the reverse is true by
// construction.) Run: go test -run '^$' -fuzz FuzzFastParse -fuzztime 10m ./internal/proxy/
func FuzzFastParse(f *testing.F) {
	for _, c := range append(append([]struct{ name, req string }{}, ambiguousRequests...), moreAmbiguousRequests...) {
		f.Add([]byte(c.req))
	}
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"GET /a/b?c=d&e HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 3\r\nConnection: keep-alive, close\r\n\r\nabc",
		"GET /%41%2F?q#f HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
		"HEAD /x HTTP/1.1\r\nHost: a\r\nUser-Agent: \t curl/8 \t\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
		"GET // HTTP/1.1\r\nHost: a\r\ncontent-length: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	std := newStdParse(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		h, n, o := h1.Parse(in, 8<<10)
		if o != h1.Ready {
			return
		}
		r := std.parse(t, in[:n])
		if r == nil {
			t.Fatalf("h1 serves, net/http (with the guard) refuses: %q", in[:n])
		}
		diff := func(what string, a, b any) {
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: h1 %#v, net/http %#v, for %q", what, a, b, in[:n])
			}
		}
		diff("method", h.Method, r.Method)
		diff("target", h.Target, r.RequestURI)
		diff("url", h.URL, *r.URL)
		diff("host", h.Host, r.Host)
		diff("header", h.Header, r.Header)
		diff("content-length", h.ContentLength, r.ContentLength)
		diff("close", h.Close, r.Close)
		diff("proto", "HTTP/1.1", r.Proto)
		if !bytes.HasSuffix(in[:n], []byte("\r\n\r\n")) {
			t.Errorf("head of %d bytes does not end with CRLFCRLF: %q", n, in[:n])
		}
	})
}
