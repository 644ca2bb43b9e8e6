package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/hostile"
	"github.com/cutover/cutover/internal/loadgen"
)

// canaryPair runs a stable (revision 1) and a canary (revision 2) demo app process behind a
// route at 50/50 and returns the route's address. Their /flag asks a local flag service that
// always answers, so that no path of the app fails by itself.
func canaryPair(t testing.TB, p *Proxy) string {
	t.Helper()
	ofrep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"value":true,"variant":"on","reason":"STATIC"}`)
	}))
	t.Cleanup(ofrep.Close)
	env := []string{"OFREP_URL=" + ofrep.URL, "OFREP_TOKEN=t"}
	stable, canary := startApp(t, "stable", env...), startApp(t, "canary", env...)
	addr := route(t, p, Route{Service: "web"})
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 50, Role: "stable", Targets: []Target{stable.target()}},
		{Revision: 2, Weight: 50, Role: "canary", Targets: []Target{canary.target()}},
	}, 0)
	return addr
}

// charged describes what the revisions of web were charged with, or "" when nothing: errors,
// failed connects, timeouts, an ejected target.
func charged(p *Proxy) string {
	var b strings.Builder
	for rev, c := range p.Stats("web") {
		if c.Errors != 0 || c.ConnectErrors != 0 || c.Timeouts != 0 {
			fmt.Fprintf(&b, "revision %d: %d errors, %d connect errors, %d timeouts; ", rev, c.Errors, c.ConnectErrors, c.Timeouts)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, tg := range p.targets {
		if tg.ejected(p.now()) {
			fmt.Fprintf(&b, "target %s ejected; ", id)
		}
	}
	return b.String()
}

// hostileSeed is $HOSTILE_SEED, or the time.
func hostileSeed(t *testing.T) uint64 {
	if s := os.Getenv("HOSTILE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HOSTILE_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestHostileClientBesideCanary sends every kind of hostile traffic (internal/hostile: bad
// chunking, bare LFs, CL/TE conflicts, bodies cut, stalled and half-closed, oversize headers,
// garbage, CONNECT, h2c) to a healthy stable and canary pair of demo app processes, beside
// normal load: no revision is charged with an error, no target is ejected, no normal request
// fails and no attack is answered 502 or 504 (which would blame an app). Rerun a seed with
// HOSTILE_SEED.
func TestHostileClientBesideCanary(t *testing.T) {
	p := startProxy(t, Config{})
	addr := canaryPair(t, p)
	seed := hostileSeed(t)
	ctx, cancel := context.WithCancel(context.Background())
	loadDone := make(chan loadgen.Summary, 1)
	go func() {
		sum, _ := loadgen.Run(ctx, loadgen.Config{URL: "http://" + addr + "/", Rate: 100, Duration: time.Minute}, nil)
		loadDone <- sum
	}()
	tally := hostile.Run(context.Background(), hostile.Config{Addr: addr, Target: hostile.Target{Host: "a.example", Path: "/echo"},
		Seed: seed, N: 4 * len(hostile.Kinds), Workers: 8})
	cancel()
	load := <-loadDone
	t.Logf("seed %d: %s; load %s", seed, tally, load)
	if tally.Sent != 4*len(hostile.Kinds) || len(tally.ByKind) != len(hostile.Kinds) {
		t.Errorf("sent %d attacks of %d kinds, want %d of %d", tally.Sent, len(tally.ByKind), 4*len(hostile.Kinds), len(hostile.Kinds))
	}
	if n := tally.ByStatus[http.StatusBadGateway] + tally.ByStatus[http.StatusGatewayTimeout]; n != 0 {
		t.Errorf("seed %d: %d attacks answered 502/504, blaming an app", seed, n)
	}
	if msg := charged(p); msg != "" {
		t.Errorf("seed %d: a client's traffic was charged to the app: %s", seed, msg)
	}
	if load.Failed != 0 || load.Sent == 0 {
		t.Errorf("normal load beside the attacks: %s; want every request served", load)
	}
	var client int64
	for _, c := range p.Stats("web") {
		client += c.ClientErrors
	}
	if client == 0 {
		t.Errorf("no client error counted: the attacks never reached an app")
	}
}

// FuzzHostileClient writes fuzzed bytes to a real proxy in front of a healthy stable and
// canary pair of demo app processes: first at once, then (if any) 20ms later, ending as end
// says (read the answer, close, half-close). Whatever the bytes, no revision may be charged
// with an error nor a target ejected, and a normal request afterwards is served. The seeds
// are one attack of every kind of internal/hostile.
func FuzzHostileClient(f *testing.F) {
	for i, kind := range hostile.Kinds {
		a := hostile.Make(kind, hostile.NewRand(uint64(i)), hostile.Target{Host: "a.example", Path: "/echo", Stall: 20 * time.Millisecond})
		f.Add(a.First, a.Then, uint8(a.End))
	}
	p := startProxy(f, Config{})
	addr := canaryPair(f, p)
	f.Fuzz(func(t *testing.T, first, then []byte, end uint8) {
		if len(first)+len(then) > 96<<10 {
			return
		}
		a := hostile.Attack{Kind: "fuzz", First: first, Pause: 20 * time.Millisecond, End: hostile.Ending(end % 3)}
		if len(then) > 0 {
			a.Then = then
		}
		res := hostile.Send(context.Background(), addr, a, 3*time.Second)
		if res.Status == http.StatusBadGateway || res.Status == http.StatusGatewayTimeout {
			t.Errorf("answered %d, blaming an app, to %q then %q", res.Status, first, then)
		}
		if r := send(http.MethodGet, "http://"+addr+"/", ""); r.status != http.StatusOK {
			t.Fatalf("normal request after %q then %q: got %d %v, want 200", first, then, r.status, r.err)
		}
		if msg := charged(p); msg != "" {
			t.Fatalf("%q then %q (or an input before it) was charged to the app: %s", first, then, msg)
		}
	})
}
