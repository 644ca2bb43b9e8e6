package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A paused service's requests (GET and POST with a body) are held, none reaches the app and
// none fails; Resume releases every one to the app.
func TestPauseHoldsThenReleases(t *testing.T) {
	var reached atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "db"})
	p.SetTargets("db", one(up), 0)
	p.Pause("db", time.Minute, 0)
	if !p.Paused("db") {
		t.Fatal("Paused after Pause: false")
	}
	const n = 40
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := range n {
		wg.Go(func() {
			var resp *http.Response
			var err error
			if i%2 == 0 {
				resp, err = http.Get("http://" + addr + "/")
			} else {
				resp, err = http.Post("http://"+addr+"/", "text/plain", strings.NewReader("body"))
			}
			if err != nil {
				codes <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	waitFor(t, func() bool { return waitingOf(p, "db") == n })
	if got := reached.Load(); got != 0 {
		t.Fatalf("%d requests reached the app while paused", got)
	}
	p.Resume("db")
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a held request got %d after Resume, want 200", c)
		}
	}
	if got := reached.Load(); got != n {
		t.Fatalf("%d of %d held requests reached the app", got, n)
	}
}

// A request held past the pause's timeout, or beyond its queue's bound, gets 503 with
// Retry-After, and reaches no app.
func TestPauseTimeoutAndBound(t *testing.T) {
	up, count, _ := countingUpstream(t)
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "db"})
	p.SetTargets("db", one(up), 0)

	p.Pause("db", 50*time.Millisecond, 0)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("past the timeout: got %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	p.Pause("db", time.Minute, 1)
	done := make(chan int, 1)
	go func() {
		r, err := http.Get("http://" + addr + "/")
		if err == nil {
			r.Body.Close()
			done <- r.StatusCode
		}
		close(done)
	}()
	waitFor(t, func() bool { return waitingOf(p, "db") == 1 })
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("beyond the queue's bound: got %d, want 503 at once", resp.StatusCode)
	}
	if count.Load() != 0 {
		t.Fatalf("%d requests reached the app while paused", count.Load())
	}
	p.Resume("db")
	if c := <-done; c != http.StatusOK {
		t.Fatalf("the held request got %d after Resume, want 200", c)
	}
}

func waitingOf(p *Proxy, service string) int64 {
	p.mu.Lock()
	s := p.services[service]
	p.mu.Unlock()
	if g := s.pause.Load(); g != nil {
		return g.waiting.Load()
	}
	return -1
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
