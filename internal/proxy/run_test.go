package proxy

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunDrainsInFlightRequests(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		releaseIn time.Duration
		wantErr   bool
	}{
		{"request ends within the timeout", 10 * time.Second, 200 * time.Millisecond, false},
		{"request outlives the timeout", 100 * time.Millisecond, time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(discardLogger(), Config{ShutdownTimeout: tc.timeout})
			addr := route(t, p, Route{Service: "web"})
			arrived := make(chan string, 1)
			release := make(chan struct{})
			p.SetTargets("web", one(blocking(t, "slow", arrived, release)), 0)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()

			result := make(chan int, 1)
			go func() {
				resp, err := http.Get("http://" + addr + "/")
				if err != nil {
					result <- 0
					return
				}
				resp.Body.Close()
				result <- resp.StatusCode
			}()
			<-arrived
			stopped := time.Now()
			cancel()
			select {
			case err := <-done:
				t.Fatalf("Run returned %v with a request in flight", err)
			case <-time.After(50 * time.Millisecond):
			}
			time.AfterFunc(tc.releaseIn, func() { close(release) })
			err := <-done
			if took := time.Since(stopped); tc.wantErr && took >= tc.releaseIn {
				t.Errorf("Run took %v, past its shutdown timeout %v", took, tc.timeout)
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("Run: got %v, want error %v", err, tc.wantErr)
			}
			if status := <-result; !tc.wantErr && status != 200 {
				t.Errorf("in-flight request during shutdown: got %d, want 200", status)
			}
		})
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

func TestNoTargetWarnsOncePerTransition(t *testing.T) {
	var logs syncBuffer
	p := New(slog.New(slog.NewTextHandler(&logs, nil)), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	addr := route(t, p, Route{Service: "web"})
	for range 3 {
		get(t, addr, "/")
	}
	p.SetTargets("web", one(named(t, "v1")), 0)
	get(t, addr, "/")
	p.SetTargets("web", nil, 0)
	for range 3 {
		get(t, addr, "/")
	}
	if got := logs.count("service has no target"); got != 2 {
		t.Errorf("warnings for 6 requests in two periods without targets: got %d, want 2", got)
	}
}

func TestRemovedTargetIdleConnectionsClosed(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	var open atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	up.Start()
	defer up.Close()
	p.SetTargets("web", one(up), 0)
	get(t, addr, "/")
	if got := open.Load(); got != 1 {
		t.Fatalf("upstream connections after one request: %d, want 1 kept alive", got)
	}
	p.SetTargets("web", one(named(t, "next")), 0)
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := open.Load(); got != 0 {
		t.Errorf("upstream connections after the target was removed: %d, want 0", got)
	}
}
