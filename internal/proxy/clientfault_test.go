package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clean fails t unless revision 1 of web has no error, no client request counted as its own
// and its target id not ejected.
func clean(t *testing.T, p *Proxy, id string) {
	t.Helper()
	c := p.Stats("web")[1]
	if c.Errors != 0 || c.ConnectErrors != 0 || c.Timeouts != 0 {
		t.Errorf("the revision was charged: %d errors, %d connect errors, %d timeouts; want none (%+v)", c.Errors, c.ConnectErrors, c.Timeouts, c)
	}
	p.mu.Lock()
	tg := p.targets[id]
	p.mu.Unlock()
	if tg != nil && tg.ejected(p.now()) {
		t.Errorf("target %s ejected by a client's fault", id)
	}
}

// TestBareLFChunkedRefused is the review's reproduction: a chunked body whose lines end in a
// bare LF (`3\nabc\n0\n\n`), sent in one write on a raw socket, is refused with 400 before
// anything reaches the upstream, and is not an error of the revision it would have reached.
func TestBareLFChunkedRefused(t *testing.T) {
	p := startProxy(t, Config{EjectDuration: time.Hour})
	addr := route(t, p, Route{Service: "web"})
	up, count, seen := countingUpstream(t)
	p.SetTargets("web", one(up), 0)
	const head = "POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
	for name, body := range map[string]string{
		"every line":           "3\nabc\n0\n\n",
		"chunk size":           "3\nabc\r\n0\r\n\r\n",
		"after the chunk data": "3\r\nabc\n0\r\n\r\n",
		"last chunk":           "3\r\nabc\r\n0\n\r\n",
		"trailer":              "3\r\nabc\r\n0\r\nX-T: 1\n\r\n",
		"end of trailers":      "3\r\nabc\r\n0\r\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			before := count.Load()
			if status := rawExchange(t, addr, head+body); status != http.StatusBadRequest {
				t.Errorf("chunked body %q: got status %d, want 400", body, status)
			}
			if s := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n"); s != http.StatusOK {
				t.Fatalf("well-formed request after it: got %d, want 200", s)
			}
			<-seen
			if n := count.Load() - before; n != 1 {
				t.Errorf("%d request(s) reached the upstream, want only the well-formed one", n)
			}
			clean(t, p, "ta")
		})
	}
}

// TestClientFaultsAreNotTheRevisions sends, beside a healthy demo app process, requests whose
// bodies fail on the client's side once the upstream has their head: a malformed chunk that
// arrives late, a body the client cuts, a body the client stalls while the app gives up on
// it. None is the app's failure: none may count as an error of its revision or eject it.
func TestClientFaultsAreNotTheRevisions(t *testing.T) {
	p := startProxy(t, Config{EjectDuration: time.Hour})
	addr := route(t, p, Route{Service: "web"})
	a := startApp(t, "a")
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{a.target()}}}, 0)
	const chunked = "POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
	const sized = "POST /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n"

	cases := []struct {
		name       string
		first      string // sent at once
		then       string // sent once the app has the request ("" sends nothing)
		closeAfter bool   // the client closes its side after then
		wantStatus int    // 0: the client goes away before any answer
	}{
		{"malformed chunk after the head", chunked + "3\r\nabc\r\n", "zz\r\n", false, http.StatusBadRequest},
		{"bare LF after the head", chunked + "3\r\nabc\r\n", "0\n\n", false, http.StatusBadRequest},
		{"bare LF in a trailer after the head", chunked + "3\r\nabc\r\n", "0\r\nX-T: 1\n\r\n", false, http.StatusBadRequest},
		{"chunked body cut", chunked + "3\r\nabc\r\n", "", true, 0},
		{"sized body cut", sized + "0123456789", "", true, 0},
		{"sized body half-closed", sized + "0123456789", "", false, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, tc.first); err != nil {
				t.Fatal(err)
			}
			waitInFlight(t, p, a)
			if tc.then != "" {
				if _, err := io.WriteString(c, tc.then); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case tc.closeAfter:
				_ = c.Close()
			case tc.then == "":
				_ = c.(*net.TCPConn).CloseWrite()
			}
			if tc.wantStatus != 0 {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("got %d, want %d", resp.StatusCode, tc.wantStatus)
				}
			}
			waitIdle(t, p, a)
			if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK {
				t.Fatalf("well-formed request after it: got %d %v, want 200", r.status, r.err)
			}
			clean(t, p, a.name)
			if n := p.Stats("web")[1].ClientErrors; n == 0 {
				t.Errorf("client errors: got 0, want the case counted there")
			}
		})
	}
}

// waitIdle waits until no request is in flight on a.
func waitIdle(t *testing.T, p *Proxy, a *app) {
	t.Helper()
	for range 1000 {
		if p.InFlight(a.name) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("a request is still in flight on %s", a.name)
}

// droppingUpstream reads requests, then closes the connection without an answer once
// nothing has come for 100ms: an app that gives up on a client that stalls its upload (a body
// read timeout) and drops it. It signals each connection it dropped on dropped.
func droppingUpstream(t *testing.T) (addr string, dropped <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 16)
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for {
				_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := br.ReadString('\n'); err != nil {
					break
				}
			}
			_ = c.Close()
			got <- struct{}{}
		}
	}()
	return ln.Addr().String(), got
}

// TestStalledBodyIsNotTheRevisions: a client sends a request head and part of its body, then
// stalls; the app gives up on it and drops the connection; then the client sends the rest.
// The failure was caused by the client's side of the body copy: the proxy answers 408, and it
// is neither an error of the revision nor a reason to eject the target.
func TestStalledBodyIsNotTheRevisions(t *testing.T) {
	p := startProxy(t, Config{EjectDuration: time.Hour, ClientStall: 50 * time.Millisecond})
	addr := route(t, p, Route{Service: "web"})
	up, dropped := droppingUpstream(t)
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "up", Addr: up}}}}, 0)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	<-dropped
	if _, err := io.WriteString(c, strings.Repeat("x", 90)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled request dropped by the app: got %d, want 408", resp.StatusCode)
	}
	clean(t, p, "up")
	if n := p.Stats("web")[1].ClientErrors; n != 1 {
		t.Errorf("client errors: got %d, want 1", n)
	}
}
