package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/testbin"
)

// app is a demo app process serving on a loopback port.
type app struct {
	name, addr string
	cmd        *exec.Cmd
}

// startApp runs the demo app as a real process named name (its X-Instance header) with env
// added, and waits until it answers /healthz. It is killed at cleanup.
func startApp(t testing.TB, name string, env ...string) *app {
	t.Helper()
	bin := testbin.Demoapp(t)
	for range 5 {
		addr := deadAddr(t)
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), append([]string{"LISTEN_ADDR=" + addr, "INSTANCE=" + name, "VERSION=" + name}, env...)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatalf("start demo app: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		a := &app{name: name, addr: addr, cmd: cmd}
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		if a.waitHealthy(exited) {
			return a
		}
	}
	t.Fatalf("demo app %s never answered /healthz", name)
	return nil
}

// waitHealthy polls /healthz until it answers 200 (true) or the process exits (false: its
// port was taken meanwhile).
func (a *app) waitHealthy(exited <-chan struct{}) bool {
	c := &http.Client{Timeout: time.Second}
	for range 500 {
		select {
		case <-exited:
			return false
		default:
		}
		if resp, err := c.Get("http://" + a.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func (a *app) target() Target { return Target{ID: a.name, Addr: a.addr} }

// waitInFlight waits until one of the targets has a request in flight and returns it.
func waitInFlight(t *testing.T, p *Proxy, apps ...*app) *app {
	t.Helper()
	for range 1000 {
		for _, a := range apps {
			if p.InFlight(a.name) > 0 {
				return a
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no request in flight on %d targets", len(apps))
	return nil
}

// guardedClient fails a test that would otherwise hang: no answer within a minute is a bug.
var guardedClient = &http.Client{Timeout: time.Minute}

type result struct {
	status   int
	body     string
	instance string
	err      error
}

func send(method, url, body string) result {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return result{err: err}
	}
	resp, err := guardedClient.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), instance: resp.Header.Get("X-Instance"), err: err}
}

// TestInstanceKilledMidRequest kills (SIGKILL) the demo app process serving a request: an
// idempotent request, of which the client has seen nothing yet, is served by the other
// instance; a POST gets a clean 502 at once, never a hang.
func TestInstanceKilledMidRequest(t *testing.T) {
	for _, tc := range []struct {
		method, body string
		wantStatus   int
	}{
		{http.MethodGet, "", http.StatusOK},
		{http.MethodPost, "payload", http.StatusBadGateway},
	} {
		t.Run(tc.method, func(t *testing.T) {
			p := startProxy(t, Config{})
			addr := route(t, p, Route{Service: "web"})
			a, b := startApp(t, "a"), startApp(t, "b")
			p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{a.target(), b.target()}}}, 0)

			done := make(chan result, 1)
			go func() { done <- send(tc.method, "http://"+addr+"/slow?d=500ms", tc.body) }()
			victim := waitInFlight(t, p, a, b)
			if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			got := <-done
			if got.err != nil {
				t.Fatalf("%s with its instance killed: %v", tc.method, got.err)
			}
			if got.status != tc.wantStatus {
				t.Errorf("%s with its instance killed: got %d %q, want %d", tc.method, got.status, got.body, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK && (got.instance == victim.name || got.instance == "") {
				t.Errorf("retried GET answered by instance %q, want the survivor", got.instance)
			}
			// The proxy keeps serving from the survivor.
			for i := range 10 {
				if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK {
					t.Fatalf("request %d after the kill: got %d %q %v, want 200", i, r.status, r.body, r.err)
				}
			}
		})
	}
}

// hangingUpstream accepts connections and reads them but never answers.
func hangingUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestSilentInstanceTimesOutThenEjected routes round-robin to a demo app and to a listener
// that accepts but never answers: the request that reaches the silent one gets 504 at the
// route's timeout, and every later request goes to the demo app.
func TestSilentInstanceTimesOutThenEjected(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Balance: balanceRR, Timeout: 300 * time.Millisecond})
	good := startApp(t, "good")
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{
		{ID: "silent", Addr: hangingUpstream(t)}, good.target()}}}, 0)

	timedOut := false
	for i := 0; i < 2 && !timedOut; i++ {
		r := send(http.MethodGet, "http://"+addr+"/", "")
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusGatewayTimeout:
			timedOut = true
		case r.status != http.StatusOK:
			t.Fatalf("request %d: got %d %q, want 200 or 504", i, r.status, r.body)
		}
	}
	if !timedOut {
		t.Fatalf("two round-robin requests: none reached the silent target and got 504")
	}
	const n = 50
	for i := range n {
		if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK || r.instance != "good" {
			t.Fatalf("request %d after the timeout: got %d from %q (%v), want 200 from good: the silent target was not ejected", i, r.status, r.instance, r.err)
		}
	}
	if c := p.Stats("web")[1]; c.Timeouts != 1 {
		t.Errorf("stats: %d timeouts, want 1", c.Timeouts)
	}
}

// TestUnreadyInstanceFinishesInFlight takes a demo app out of the targets (as when its
// readiness fails) while it serves a slow request: the request completes with 200 from it,
// new requests go only to the other instance, and the drain ends once the request is done.
func TestUnreadyInstanceFinishesInFlight(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	a, b := startApp(t, "a"), startApp(t, "b")
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{a.target()}}}, 0)

	done := make(chan result, 1)
	go func() { done <- send(http.MethodGet, "http://"+addr+"/slow?d=1s", "") }()
	waitInFlight(t, p, a)
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{b.target()}}}, 0)
	for i := range 20 {
		if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK || r.instance != "b" {
			t.Fatalf("request %d after a left: got %d from %q (%v), want 200 from b", i, r.status, r.instance, r.err)
		}
	}
	if n := p.InFlight("a"); n != 1 {
		t.Errorf("in flight on a after it left: %d, want 1", n)
	}
	if err := p.Drain(context.Background(), "a", 30*time.Second); err != nil {
		t.Errorf("drain a: %v", err)
	}
	got := <-done
	if got.status != http.StatusOK || got.instance != "a" || !strings.HasPrefix(got.body, "slow 1s") {
		t.Errorf("in-flight request on the instance that left: got %d %q from %q (%v), want 200 slow from a", got.status, got.body, got.instance, got.err)
	}
}

// TestAllInstancesGone kills every demo app process of the only revision: while the
// targets are still listed, a request gets a clean 502 (connections refused); once they
// are removed, 503 with Retry-After.
func TestAllInstancesGone(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	a, b := startApp(t, "a"), startApp(t, "b")
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{a.target(), b.target()}}}, 0)
	if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK {
		t.Fatalf("before: got %d %v, want 200", r.status, r.err)
	}
	for _, x := range []*app{a, b} {
		_ = x.cmd.Process.Signal(syscall.SIGKILL)
		for range 500 {
			c, err := net.Dial("tcp", x.addr)
			if err != nil {
				break
			}
			c.Close()
			time.Sleep(5 * time.Millisecond)
		}
	}
	if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusBadGateway {
		t.Errorf("instances dead, still listed: got %d %q %v, want 502", r.status, r.body, r.err)
	}
	p.SetTargets("web", nil, 0)
	resp, err := guardedClient.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("no instance left: got %d with Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
