package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptedUpstream accepts connections on loopback and hands each to serve, counting them.
func scriptedUpstream(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String(), &accepted
}

// readRequestHead reads one request head from br; it reports false at the end of the connection.
func readRequestHead(br *bufio.Reader) bool {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			return true
		}
	}
}

func TestUpstreamReusesConnection(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	p.SetTargets("web", one(up), 0)
	getOnOneConn(t, p, addr, 20, "ok", &conns, "ta")
}

// getOnOneConn sends n sequential GETs of / to addr, each to be answered 200 with body,
// and checks that they took one upstream connection (conns counts those the upstream
// accepted), which is now idle in the own pool of target id, not in net/http's Transport.
func getOnOneConn(t *testing.T, p *Proxy, addr string, n int, body string, conns *atomic.Int64, id string) {
	t.Helper()
	for i := range n {
		if got := get(t, addr, "/"); got.status != 200 || got.body != body {
			t.Fatalf("request %d: got %d %q, want 200 %s", i, got.status, got.body, body)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("upstream connections for %d sequential requests: got %d, want 1", n, got)
	}
	p.mu.Lock()
	u := p.targets[id].transport.Load()
	p.mu.Unlock()
	u.mu.Lock()
	idle := len(u.idle)
	u.mu.Unlock()
	if idle != 1 {
		t.Errorf("idle connections in the upstream client's own pool: got %d, want 1", idle)
	}
}

// TestUpstreamClosedIdleConnection has an upstream close each connection right after its
// answer: the next request finds its kept-alive connection dead and must be sent on a new one.
func TestUpstreamClosedIdleConnection(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up, accepted := scriptedUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if readRequestHead(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)
	for i := range 5 {
		if got := get(t, addr, "/"); got.status != 200 || got.body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 ok", i, got.status, got.body)
		}
	}
	if got := accepted.Load(); got < 5 {
		t.Errorf("upstream connections: got %d, want at least 5 (one per answer)", got)
	}
}

func TestUpstreamSkipsInformationalAnswers(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up, _ := scriptedUpstream(t, func(c net.Conn, br *bufio.Reader) {
		for readRequestHead(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal")
		}
	})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)
	for i := range 2 {
		got := get(t, addr, "/")
		if got.status != 200 || got.body != "final" || got.header.Get("X-Final") != "yes" {
			t.Errorf("request %d after a 103: got %d %q %v, want 200 final with X-Final", i, got.status, got.body, got.header)
		}
	}
}

func TestUpstreamHeaderTooLarge(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	big := strings.Repeat("a", maxResponseHeader)
	up, _ := scriptedUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if readRequestHead(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+big+"\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)
	if got := get(t, addr, "/"); got.status != http.StatusBadGateway {
		t.Errorf("answer with a %d-byte header: got %d, want 502", len(big), got.status)
	}
}

func TestUpstreamChunkedTrailers(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up, accepted := scriptedUpstream(t, func(c net.Conn, br *bufio.Reader) {
		for readRequestHead(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n")
		}
	})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)
	for i := range 3 {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "abcde" || resp.Trailer.Get("X-Sum") != "5" {
			t.Errorf("request %d: got %q %v trailer %v, want abcde with X-Sum: 5", i, b, err, resp.Trailer)
		}
	}
	if got := accepted.Load(); got != 1 {
		t.Errorf("upstream connections for 3 chunked answers: got %d, want 1", got)
	}
}

// TestUpstreamClientGone checks that a client leaving while the upstream thinks ends the
// upstream request at once rather than at the route's timeout.
func TestUpstreamClientGone(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Timeout: time.Hour})
	arrived, ended := make(chan struct{}, 1), make(chan struct{}, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
		ended <- struct{}{}
	}))
	defer up.Close()
	p.SetTargets("web", one(up), 0)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; err == nil {
		t.Errorf("cancelled request: got an answer")
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("upstream request still open 10s after the client left")
	}
	if n := p.InFlight("ta"); n != 0 {
		// The handler may take a moment to return after the upstream's connection closed.
		deadline := time.Now().Add(5 * time.Second)
		for p.InFlight("ta") != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := p.InFlight("ta"); n != 0 {
			t.Errorf("in flight after the client left: %d, want 0", n)
		}
	}
}

// TestWriteHeadMatchesRequestWrite checks that writeHead sends what http.Request.Write would
// for requests without a body, as the upstream reads them.
func TestWriteHeadMatchesRequestWrite(t *testing.T) {
	cases := []struct {
		name, method, target string
		header               http.Header
	}{
		{"get with query", "GET", "/api/items?page=2&q=a%20b", http.Header{"Accept": {"*/*"}, "X-Request-Id": {"abc"}}},
		{"escaped path", "GET", "/a%2Fb/c%20d", http.Header{"Cookie": {"a=1", "b=2"}}},
		{"empty user agent", "HEAD", "/", http.Header{"User-Agent": {""}, "X-Forwarded-For": {"127.0.0.1"}}},
		{"user agent", "OPTIONS", "/x", http.Header{"User-Agent": {"curl/8"}}},
		{"post without body", "POST", "/submit", http.Header{"Idempotency-Key": {"k1"}}},
		{"delete", "DELETE", "/item/7?force", http.Header{"Authorization": {"Bearer t"}}},
		{"force query", "GET", "/search?", nil},
		{"spaces and newline in value", "GET", "/", http.Header{"X-Odd": {"  a\r\nb  "}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			mk := func() *http.Request {
				h := tc.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				if _, ok := h["User-Agent"]; !ok {
					h["User-Agent"] = []string{""}
				}
				uu := *u
				uu.Scheme, uu.Host = "http", "10.0.0.1:8080"
				return &http.Request{Method: tc.method, URL: &uu, Host: "app.example.com", Header: h,
					Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
			}
			var ours, std bytes.Buffer
			bw := bufio.NewWriter(&ours)
			if err := writeHead(bw, mk()); err != nil {
				t.Fatal(err)
			}
			_ = bw.Flush()
			if err := mk().Write(&std); err != nil {
				t.Fatal(err)
			}
			got, want := parseRequest(t, ours.Bytes()), parseRequest(t, std.Bytes())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("writeHead vs Request.Write (-want +got):\n%s\nours:\n%s", diff, ours.String())
			}
		})
	}
}

// sentRequest is what an upstream reads of a request.
type sentRequest struct {
	Method, RequestURI, Host string
	ContentLength            int64
	Header                   http.Header
}

func parseRequest(t *testing.T, b []byte) sentRequest {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("read %q: %v", b, err)
	}
	return sentRequest{r.Method, r.RequestURI, r.Host, r.ContentLength, r.Header}
}

// TestUpstreamBodyOutlivesHeaderTimeout checks that the response-header timeout does not
// cut a body that takes longer, on a connection used twice.
func TestUpstreamBodyOutlivesHeaderTimeout(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Timeout: 50 * time.Millisecond})
	up, accepted := scriptedUpstream(t, func(c net.Conn, br *bufio.Reader) {
		for readRequestHead(br) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
			time.Sleep(200 * time.Millisecond)
			_, _ = io.WriteString(c, "body")
		}
	})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "a", Addr: up}}}}, 0)
	getOnOneConn(t, p, addr, 2, "body", accepted, "a")
}

// TestUpstreamEarlyDeadline checks the reads that meet a deadline armed earlier than the
// one due: they go on, and only the due deadline, or the client going away, ends them.
func TestUpstreamEarlyDeadline(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		due    time.Duration // from now; 0: reading a body, no deadline
		ctx    context.Context
		wantOK bool
	}{
		{"header due later", 5 * time.Second, context.Background(), true},
		{"body", 0, context.Background(), true},
		{"header overdue", -time.Millisecond, context.Background(), false},
		{"body, client gone", 0, gone, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, "http://x/", nil)
			c := &upConn{u: &upstream{headerTimeout: time.Second}, nc: a, limit: -1, req: req}
			c.setDeadline(time.Now().Add(-time.Second)) // an earlier request's deadline
			if tc.due != 0 {
				c.due = time.Now().Add(tc.due)
			}
			go func() {
				time.Sleep(20 * time.Millisecond)
				_, _ = b.Write([]byte("x"))
			}()
			buf := make([]byte, 1)
			n, err := limitedConn{c}.Read(buf)
			if ok := err == nil && n == 1; ok != tc.wantOK {
				t.Errorf("read: got %d %v, want success %v", n, err, tc.wantOK)
			}
		})
	}
}
