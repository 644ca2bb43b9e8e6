package proxy

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// wsAccept computes Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// echoUpgrader completes a WebSocket handshake by hand, then echoes raw bytes.
func echoUpgrader(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("upstream hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		_ = brw.Flush()
		_, _ = io.Copy(conn, brw)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWebSocketEcho(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	p.SetTargets("web", one(echoUpgrader(t)), 0)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET /chat HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake: got %d %v, want 101 with the accept key", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("handshake: no X-Request-Id")
	}
	for _, msg := range []string{"hello\n", "again\n"} {
		if _, err := io.WriteString(conn, msg); err != nil {
			t.Fatal(err)
		}
		got, err := br.ReadString('\n')
		if err != nil || got != msg {
			t.Fatalf("echo of %q: got %q, %v", msg, got, err)
		}
	}
	if got := p.InFlight("ta"); got != 1 {
		t.Errorf("InFlight during a WebSocket session = %d, want 1", got)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for p.InFlight("ta") != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := p.InFlight("ta"); got != 0 {
		t.Errorf("InFlight after the WebSocket closed = %d, want 0", got)
	}
}

func TestServerSentEventsStream(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "data: event %d\n\n", i)
			w.(http.Flusher).Flush()
		}
		<-release // the stream stays open until the client has read both events
		fmt.Fprint(w, "data: last\n\n")
	}))
	defer up.Close()
	defer close(release)
	p.SetTargets("web", one(up), 0)

	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 2 {
		line, err := br.ReadString('\n')
		if want := fmt.Sprintf("data: event %d\n", i); err != nil || line != want {
			t.Fatalf("event %d before the stream ends: got %q, %v; want %q", i, line, err, want)
		}
		_, _ = br.ReadString('\n')
	}
}

// TestAnswerBeforeBodyEnds checks that the request body stays the transport's once the upstream
// starts answering: the client sends the second half of its body only after it has read the
// start of the answer, which must neither deadlock nor cut either stream.
func TestAnswerBeforeBodyEnds(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	const half = 64 << 10
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Errorf("upstream full duplex: %v", err)
		}
		if _, err := io.ReadFull(r.Body, make([]byte, half)); err != nil {
			t.Errorf("upstream read of the first half: %v", err)
			return
		}
		_, _ = io.WriteString(w, "started\n")
		w.(http.Flusher).Flush()
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "rest=%d err=%v\n", n, err)
	}))
	defer up.Close()
	p.SetTargets("web", one(up), 0)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	// The client transport waits for its body to end before giving up: end it at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = pw.CloseWithError(ctx.Err()) })
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 2 * half
	go func() { _, _ = pw.Write(make([]byte, half)) }()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "started\n" {
		t.Fatalf("start of the answer: got %q, %v", line, err)
	}
	if _, err := pw.Write(make([]byte, half)); err != nil {
		t.Fatalf("second half of the body: %v", err)
	}
	_ = pw.Close()
	rest, err := io.ReadAll(br)
	if want := fmt.Sprintf("rest=%d err=<nil>\n", half); err != nil || string(rest) != want {
		t.Errorf("end of the answer: got %q (read error %v), want %q", rest, err, want)
	}
}
