package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testApp is one in-process demoapp on 127.0.0.1:0.
type testApp struct {
	url  string
	out  *syncBuffer
	term context.CancelFunc // simulates SIGTERM
	code chan int           // receives serve's exit code
}

func startApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	cfg, err := loadConfig(envFunc(env))
	if err != nil {
		t.Fatalf("loadConfig(%v): %v", env, err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{url: "http://" + ln.Addr().String(), out: &syncBuffer{}, term: cancel, code: make(chan int, 1)}
	go func() { ta.code <- serve(ctx, cfg, ln, ta.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ta.code:
		case <-time.After(15 * time.Second):
			t.Error("demoapp did not stop")
		}
	})
	return ta
}

// get returns status, body and headers of GET url+path, failing the test on transport errors.
func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestHelloHeaders(t *testing.T) {
	a := startApp(t, map[string]string{"VERSION": "v7", "INSTANCE": "web-1"})
	for _, path := range []string{"/", "/api/anything"} {
		code, body, h := get(t, a.url+path)
		got := []string{http.StatusText(code), body, h.Get("X-Version"), h.Get("X-Instance")}
		want := []string{"OK", "hello from demoapp v7\n", "v7", "web-1"}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("GET %s (-got +want):\n%s", path, d)
		}
	}
	if out := a.out.String(); !strings.Contains(out, "listening on 127.0.0.1:") || !strings.Contains(out, "version v7") {
		t.Errorf("stdout = %q, want the listening line", out)
	}
}

func TestDefaultInstanceHasPID(t *testing.T) {
	a := startApp(t, map[string]string{})
	_, _, h := get(t, a.url+"/")
	if got := h.Get("X-Instance"); !strings.Contains(got, "-") || h.Get("X-Version") != "dev" {
		t.Errorf("X-Instance = %q, X-Version = %q; want hostname-pid and dev", got, h.Get("X-Version"))
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"ready", map[string]string{}, 200},
		{"never ready", map[string]string{"NEVER_READY": "1"}, 503},
		{"not ready yet", map[string]string{"READY_AFTER": "1h"}, 503},
		{"errors do not touch health", map[string]string{"ERROR_RATE": "1"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, tt.env)
			if code, body, _ := get(t, a.url+"/healthz"); code != tt.want {
				t.Errorf("GET /healthz with %v = %d %q, want %d", tt.env, code, body, tt.want)
			}
		})
	}
}

func TestReadyAfter(t *testing.T) {
	a := startApp(t, map[string]string{"READY_AFTER": "300ms"})
	start := time.Now()
	if code, _, _ := get(t, a.url+"/healthz"); code != 503 {
		t.Fatalf("GET /healthz at start = %d, want 503", code)
	}
	for {
		code, _, _ := get(t, a.url+"/healthz")
		if code == 200 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("GET /healthz never became 200")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("ready after %s, want >= 300ms from start", el)
	}
}

func TestErrorRateIsExact(t *testing.T) {
	a := startApp(t, map[string]string{"ERROR_RATE": "0.05"})
	var failed, health int
	for i := 0; i < 100; i++ {
		path := []string{"/", "/echo", "/slow?d=0"}[i%3]
		if code, _, _ := get(t, a.url+path); code == 500 {
			failed++
		}
		if code, _, _ := get(t, a.url+"/healthz"); code != 200 {
			health++
		}
	}
	if failed != 5 || health != 0 {
		t.Errorf("500s in 100 requests = %d (want 5), failed health checks = %d (want 0)", failed, health)
	}
}

func TestLatency(t *testing.T) {
	a := startApp(t, map[string]string{"LATENCY": "200ms", "LATENCY_JITTER": "50ms"})
	start := time.Now()
	get(t, a.url+"/")
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("GET / took %s, want >= 200ms", el)
	}
	start = time.Now()
	get(t, a.url+"/healthz")
	if el := time.Since(start); el >= 200*time.Millisecond {
		t.Errorf("GET /healthz took %s, want no added latency", el)
	}
}

func TestEcho(t *testing.T) {
	a := startApp(t, map[string]string{"VERSION": "v1"})
	req, _ := http.NewRequest("POST", a.url+"/echo?x=1", nil)
	req.Host = "app.example"
	req.Header.Set("X-Forwarded-For", "10.1.2.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got echoReply
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decode /echo: %v", err)
	}
	gotFields := []string{got.Method, got.Path, got.Query, got.Host, got.Version, strings.Join(got.Headers["X-Forwarded-For"], ",")}
	want := []string{"POST", "/echo", "x=1", "app.example", "v1", "10.1.2.3"}
	if d := cmp.Diff(gotFields, want); d != "" {
		t.Errorf("/echo (-got +want):\n%s", d)
	}
}

func TestSSE(t *testing.T) {
	a := startApp(t, map[string]string{})
	start := time.Now()
	resp, err := http.Get(a.url + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []string
	var firstAt, lastAt time.Duration
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			if len(events) == 0 {
				firstAt = time.Since(start)
			}
			lastAt = time.Since(start)
			events = append(events, line)
		}
	}
	want := []string{"data: tick 1", "data: tick 2", "data: tick 3", "data: tick 4", "data: tick 5"}
	if d := cmp.Diff(events, want); d != "" {
		t.Errorf("/sse events (-got +want):\n%s", d)
	}
	// Unflushed events would arrive together at the end; flushed ones ~400ms apart.
	if gap := lastAt - firstAt; gap < 250*time.Millisecond {
		t.Errorf("first event at %s, last at %s; want each flushed, 100ms apart", firstAt, lastAt)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestSlow(t *testing.T) {
	a := startApp(t, map[string]string{})
	start := time.Now()
	code, body, _ := get(t, a.url+"/slow?d=300ms")
	if el := time.Since(start); code != 200 || el < 300*time.Millisecond {
		t.Errorf("GET /slow?d=300ms = %d %q after %s, want 200 after >= 300ms", code, body, el)
	}
	if code, _, _ := get(t, a.url+"/slow?d=soon"); code != 400 {
		t.Errorf("GET /slow?d=soon = %d, want 400", code)
	}
}

func TestExitAfter(t *testing.T) {
	a := startApp(t, map[string]string{"EXIT_AFTER": "200ms", "EXIT_CODE": "3"})
	select {
	case code := <-a.code:
		a.code <- code // for the cleanup
		if code != 3 {
			t.Errorf("exit code = %d, want 3", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("demoapp did not exit after EXIT_AFTER")
	}
	if _, err := http.Get(a.url + "/"); err == nil {
		t.Error("GET / after EXIT_AFTER succeeded, want the listener closed")
	}
}

// TestDrain: after SIGTERM, readiness fails at once while ordinary and in-flight requests
// are still served for SHUTDOWN_DELAY, then the server stops and serve returns 0.
func TestDrain(t *testing.T) {
	a := startApp(t, map[string]string{"SHUTDOWN_DELAY": "500ms"})
	inflight := make(chan int, 1)
	go func() {
		resp, err := http.Get(a.url + "/slow?d=700ms")
		if err != nil {
			inflight <- 0
			return
		}
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // let /slow arrive
	a.term()
	time.Sleep(50 * time.Millisecond)
	if code, _, _ := get(t, a.url+"/healthz"); code != 503 {
		t.Errorf("GET /healthz while draining = %d, want 503", code)
	}
	if code, _, _ := get(t, a.url+"/"); code != 200 {
		t.Errorf("GET / while draining = %d, want 200", code)
	}
	if got := <-inflight; got != 200 {
		t.Errorf("in-flight /slow across SIGTERM = %d, want 200", got)
	}
	select {
	case code := <-a.code:
		a.code <- code
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("demoapp did not stop after SHUTDOWN_DELAY")
	}
	if out := a.out.String(); !strings.Contains(out, "shutting down\n") || !strings.HasSuffix(out, "stopped\n") {
		t.Errorf("stdout = %q, want shutting down ... stopped", out)
	}
}

// TestLatencySigma: with LATENCY_SIGMA the delays are log-normal around LATENCY: half below
// it, and about a quarter above twice it for a sigma of 1.
func TestLatencySigma(t *testing.T) {
	a := &app{cfg: config{Latency: 10 * time.Millisecond, LatencySigma: 1}}
	var below, above2 int
	const n = 4000
	for range n {
		d := a.delay()
		if d < 10*time.Millisecond {
			below++
		}
		if d > 20*time.Millisecond {
			above2++
		}
	}
	if f := float64(below) / n; f < 0.45 || f > 0.55 {
		t.Errorf("%.3f of delays below LATENCY, want about 0.5", f)
	}
	if f := float64(above2) / n; f < 0.20 || f > 0.29 {
		t.Errorf("%.3f of delays above twice LATENCY, want about 0.244 (P(Z > ln 2))", f)
	}
}
