package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startLoop serves h on a loopback listener; handed-off connections go to handed.
func startLoop(t *testing.T, h http.Handler) (addr string, s *Server, handed chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handed = make(chan net.Conn, 4)
	s = &Server{Handler: h, Handoff: func(c net.Conn) { handed <- c }, ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout: 5 * time.Second, Conns: new(atomic.Int64)}
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }()
	t.Cleanup(func() { _ = ln.Close(); <-done; s.Close() })
	return ln.Addr().String(), s, handed
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func read(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// TestLoopServes pipelines requests on one connection: a body read in part, a streamed answer
// with trailers, a HEAD and a Connection: close, each answered in order.
func TestLoopServes(t *testing.T) {
	addr, _, _ := startLoop(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/body":
			b := make([]byte, 2)
			_, _ = io.ReadFull(r.Body, b) // leaves 3 of 5 bytes: the loop drops them
			w.Header()["Content-Length"] = []string{"2"}
			_, _ = w.Write(b)
		case "/stream":
			w.Header()["Trailer"] = []string{"X-Sum"}
			_, _ = io.WriteString(w, "ab")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "c")
			w.Header().Set("X-Sum", "3")
		default:
			w.Header()["Content-Length"] = []string{"4"}
			_, _ = io.WriteString(w, r.Method+r.Host[:1])
		}
	}))
	c, br := dial(t, addr)
	_, _ = io.WriteString(c, "POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"+
		"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"+
		"GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
	if _, body := read(t, br, "POST"); body != "he" {
		t.Errorf("body: got %q, want he", body)
	}
	resp, body := read(t, br, "GET")
	if body != "abc" || resp.Trailer.Get("X-Sum") != "3" || resp.TransferEncoding == nil {
		t.Errorf("stream: got %q, trailer %v, encoding %v", body, resp.Trailer, resp.TransferEncoding)
	}
	if resp, body := read(t, br, "HEAD"); body != "" || resp.ContentLength != 4 {
		t.Errorf("head: got %q, length %d", body, resp.ContentLength)
	}
	resp, body = read(t, br, "GET")
	if body != "GETb" || !resp.Close {
		t.Errorf("close: got %q, close %v", body, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close: got %v, want EOF", err)
	}
}

// TestLoopHandsOff checks that a request beyond the loop's subset goes to Handoff with every
// byte of it, after the requests before it were served.
func TestLoopHandsOff(t *testing.T) {
	addr, _, handed := startLoop(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c, br := dial(t, addr)
	chunked := "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"+chunked)
	if resp, _ := read(t, br, "GET"); resp.StatusCode != 200 {
		t.Errorf("first request: %d", resp.StatusCode)
	}
	select {
	case hc := <-handed:
		defer hc.Close()
		b := make([]byte, len(chunked))
		if _, err := io.ReadFull(hc, b); err != nil || string(b) != chunked {
			t.Errorf("handed-off bytes: got %q %v, want %q", b, err, chunked)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the chunked request was not handed off")
	}
}

// TestLoopShutdown checks that Shutdown closes an idle connection at once and lets a busy one
// finish its answer, with Connection: close.
func TestLoopShutdown(t *testing.T) {
	release := make(chan struct{})
	addr, s, _ := startLoop(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
	}))
	idle, idleR := dial(t, addr)
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	read(t, idleR, "GET")
	busy, busyR := dial(t, addr)
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	for s.Conns.Load() != 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the slow request reaches its handler
	s.Shutdown()
	if _, err := idleR.ReadByte(); err != io.EOF {
		t.Errorf("idle connection after Shutdown: got %v, want EOF", err)
	}
	close(release)
	if resp, _ := read(t, busyR, "GET"); !resp.Close {
		t.Errorf("busy connection's answer during shutdown: want Connection: close")
	}
}

// TestLoopClientGone checks that a request's context reports a client that closed its
// connection while the handler ran.
func TestLoopClientGone(t *testing.T) {
	errs := make(chan error, 1)
	arrived := make(chan struct{})
	addr, _, _ := startLoop(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		deadline := time.Now().Add(5 * time.Second)
		for r.Context().Err() == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		errs <- r.Context().Err()
	}))
	c, _ := dial(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-arrived
	_ = c.Close()
	if err := <-errs; err == nil {
		t.Error("context of a request whose client left: got no error")
	}
}

func TestWriteValue(t *testing.T) {
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	writeValue(bw, " a\r\nb\nc ")
	_ = bw.Flush()
	if b.String() != "a  b c" {
		t.Errorf("got %q", b.String())
	}
}
