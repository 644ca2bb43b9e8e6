package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// server starts a loopback test server (httptest listens on 127.0.0.1:0).
func server(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func ok(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }

func TestRateIsRespected(t *testing.T) {
	url := server(t, ok)
	start := time.Now()
	s, err := Run(t.Context(), Config{URL: url, Rate: 200, Duration: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The schedule is exact (200); on a loaded machine a few may be dropped by the
	// generator, which is counted, never lost.
	if n := s.Sent + s.GeneratorDropped; n < 190 || n > 210 || s.OK != s.Sent || s.Failed != 0 || s.Sent < 150 {
		t.Errorf("200 rps for 1s: %v; want 190..210 scheduled, nearly all sent, all ok", s)
	}
	if s.GeneratorDropped > 0 {
		t.Logf("generator dropped %d requests (a loaded machine?)", s.GeneratorDropped)
	}
	if el := time.Since(start); el < 950*time.Millisecond || el > 3*time.Second {
		t.Errorf("run took %s, want about 1s", el)
	}
	if s.P50 <= 0 || s.Max < s.P99 || s.P99 < s.P50 {
		t.Errorf("latencies p50 %s p99 %s max %s are not ordered", s.P50, s.P99, s.Max)
	}
}

// counter is what a test server answered, to compare the generator's tally with.
type counter struct {
	mu sync.Mutex
	n  int
	by map[string]int64
}

// next counts one request and returns its number, from 1.
func (c *counter) next(key func(n int) string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.by == nil {
		c.by = map[string]int64{}
	}
	c.by[key(c.n)]++
	return c.n
}

func statusOf(n int) int {
	switch n % 10 {
	case 0:
		return 500
	case 5:
		return 503
	case 3:
		return 404 // not a failure by default
	}
	return 200
}

// TestFailuresClassified: the tally matches what the server answered, status by status.
// On a loaded machine the generator may drop some requests; the server's own counts stay
// the reference, and with none dropped they are exactly 70/10/10/10.
func TestFailuresClassified(t *testing.T) {
	var c counter
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(statusOf(c.next(func(n int) string { return fmt.Sprint(statusOf(n)) })))
	})
	var results []Result
	s, err := Run(t.Context(), Config{URL: url, Rate: 500, MaxRequests: 100},
		func(r Result) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	wantByStatus := map[int]int64{}
	for k, v := range c.by {
		var code int
		fmt.Sscan(k, &code)
		wantByStatus[code] = v
	}
	wantErrors := map[string]int64{}
	for _, code := range []int{500, 503} {
		if n := wantByStatus[code]; n > 0 {
			wantErrors[fmt.Sprintf("http_%d", code)] = n
		}
	}
	fails := wantByStatus[500] + wantByStatus[503]
	got := []any{s.Sent + s.GeneratorDropped, s.Sent, s.OK, s.Failed, s.ByStatus, s.Errors}
	want := []any{int64(100), int64(c.n), int64(c.n) - fails, fails, wantByStatus, wantErrors}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("summary (-got +want):\n%s", d)
	}
	if s.GeneratorDropped == 0 && fails != 20 {
		t.Errorf("no request dropped but %d failures, want 20: %v", fails, s)
	}
	var failed int64
	for _, r := range results {
		if r.Failed {
			failed++
			if r.Kind != fmt.Sprintf("http_%d", r.Status) {
				t.Errorf("failed result kind %q status %d", r.Kind, r.Status)
			}
		}
	}
	if len(results) != 100 || failed != fails {
		t.Errorf("onResult saw %d results, %d failed; want 100, %d", len(results), failed, fails)
	}
}

func TestFailStatusConfigurable(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	s, err := Run(t.Context(), Config{URL: url, Rate: 100, MaxRequests: 10,
		FailStatus: func(c int) bool { return c >= 400 }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed != 10 || s.Errors["http_404"] != 10 {
		t.Errorf("404 with FailStatus >= 400: %v; want 10 failed http_404", s)
	}
}

func TestClosedPortIsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := Run(t.Context(), Config{URL: "http://" + addr + "/", Rate: 100, MaxRequests: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]any{s.Sent, s.Failed, s.Errors, len(s.ByStatus)},
		[]any{int64(10), int64(10), map[string]int64{"refused": 10}, 0}); d != "" {
		t.Errorf("closed port (-got +want):\n%s", d)
	}
}

func TestTimeout(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	s, err := Run(t.Context(), Config{URL: url, Rate: 50, MaxRequests: 5, Timeout: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed != 5 || s.Errors["timeout"] != 5 {
		t.Errorf("slow server with 100ms timeout: %v; want 5 timeouts", s)
	}
}

func TestByVersionAndHeaders(t *testing.T) {
	var c counter
	version := func(n int) string { return []string{"v2", "v1", "v1", "v1"}[n%4] }
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "yes" || r.Host != "app.test" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("X-Version", version(c.next(version)))
	})
	h := http.Header{"X-Test": {"yes"}, "Host": {"app.test"}}
	s, err := Run(t.Context(), Config{URL: url, Rate: 400, MaxRequests: 40, Header: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s.ByVersion, c.by); d != "" || s.ByStatus[200] != s.Sent || s.Sent < 4 {
		t.Errorf("ByVersion (-got +server's):\n%s\nsummary %v", d, s)
	}
	if s.GeneratorDropped == 0 && s.ByVersion["v2"] != 10 {
		t.Errorf("none dropped, ByVersion %v, want v2:10 of 40", s.ByVersion)
	}
}

func TestMaxRequestsBounds(t *testing.T) {
	var n atomic.Int64
	url := server(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	s, err := Run(t.Context(), Config{URL: url, Rate: 1000, MaxRequests: 50, Duration: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent+s.GeneratorDropped != 50 || n.Load() != s.Sent {
		t.Errorf("MaxRequests 50: %v, server saw %d", s, n.Load())
	}
}

func TestGeneratorDroppedIsCounted(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(200 * time.Millisecond) })
	var dropped int
	s, err := Run(t.Context(), Config{URL: url, Rate: 100, MaxRequests: 20, Workers: 1},
		func(r Result) {
			if r.Dropped {
				dropped++
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if s.GeneratorDropped < 10 || s.Sent+s.GeneratorDropped != 20 || int64(dropped) != s.GeneratorDropped || s.Failed != 0 {
		t.Errorf("1 worker, 200ms answers, 100 rps: %v (onResult saw %d dropped); want most dropped, none failed", s, dropped)
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := Run(ctx, Config{URL: url, Rate: 50, Duration: time.Hour, Timeout: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Run returned %s after start, want soon after the 300ms cancel", el)
	}
	if s.Sent < 5 || s.Canceled != s.Sent || s.Failed != 0 {
		t.Errorf("cancel with requests in flight: %v; want all canceled, none failed", s)
	}
}

func TestNonLoopbackRefused(t *testing.T) {
	for _, u := range []string{
		"http://10.0.0.1/", "http://example.com/", "http://[::2]:80/", "http://0.0.0.0:80/",
		"ftp://127.0.0.1/", "http://[::ffff:10.0.0.1]/",
	} {
		_, err := Run(t.Context(), Config{URL: u, Rate: 1, MaxRequests: 1}, nil)
		if err == nil {
			t.Errorf("Run(%q) succeeded, want an error", u)
		}
		if u != "ftp://127.0.0.1/" && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Run(%q) error = %v, want ErrNotLoopback", u, err)
		}
	}
	for _, h := range []string{"127.0.0.1", "127.1.2.3", "::1", "LocalHost", "::ffff:127.0.0.1"} {
		if !isLoopbackHost(h) {
			t.Errorf("isLoopbackHost(%q) = false, want true", h)
		}
	}
}

func TestDialRefusesNonLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "10.1.1.1:80": false, "[2001:db8::1]:80": false} {
		err := loopbackOnly("tcp", addr, nil)
		if (err == nil) != want {
			t.Errorf("loopbackOnly(%q) = %v, want allowed %v", addr, err, want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for name, c := range map[string]Config{
		"no rate":          {URL: "http://127.0.0.1/"},
		"negative max":     {URL: "http://127.0.0.1/", Rate: 1, MaxRequests: -1},
		"negative timeout": {URL: "http://127.0.0.1/", Rate: 1, Timeout: -1},
		"bad url":          {URL: "http://127.0.0.1:bad/", Rate: 1},
	} {
		if _, err := Run(t.Context(), c, nil); err == nil {
			t.Errorf("Run with %s succeeded, want an error", name)
		}
	}
}
