package daemon

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/hostile"
)

// hostileCanary deploys v1, then a healthy v2 as a canary at weight 50 whose analysis has an
// absolute error-rate limit of 10%, and waits until that analysis runs. It returns the
// canary deployment's id.
func hostileCanary(t *testing.T, h *harness, listen, analysis string) int64 {
	t.Helper()
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Strategy: `canary:
  steps:
    - weight: 50
    - analysis: {duration: ` + analysis + `}
    - weight: 100
  analysis: {max_error_rate: 0.1, min_requests: 10, inconclusive: pass}
`})
	waitFor(t, 60*time.Second, "the canary's analysis", func() bool {
		d, err := h.client.Deployment(context.Background(), dep.ID)
		if err != nil {
			return false
		}
		if d.Final() {
			t.Fatalf("deployment ended before its analysis: %s %s", d.Status, d.Reason)
		}
		return strings.HasPrefix(d.Phase, "analysis")
	})
	return dep.ID
}

// TestBareLFCannotRollBackHealthyCanary is the review's reproduction: twenty chunked requests
// whose lines end in a bare LF, against a healthy canary at weight 50 with max_error_rate 0.1,
// rolled it back (each came back 502 and counted as the canary's error). Each must get 400
// and the canary be promoted.
func TestBareLFCannotRollBackHealthyCanary(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	id := hostileCanary(t, h, listen, "3s")
	stop := startLoad(t, listen, 20)
	for i := range 20 {
		if status := rawSocketStatus(t, listen, "POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n"); status != http.StatusBadRequest {
			t.Errorf("bare-LF request %d: got %d, want 400", i, status)
		}
	}
	got := h.wait(id, 60*time.Second)
	sum := stop()
	t.Logf("load %s", sum)
	if got.Status != "succeeded" {
		t.Fatalf("healthy canary under bare-LF requests: %s %q; want succeeded", got.Status, got.Reason)
	}
	if sum.Failed != 0 {
		t.Errorf("%d normal requests failed", sum.Failed)
	}
}

// TestHostileClientCannotRollBackHealthyCanary runs every kind of hostile traffic
// (internal/hostile, four of each kind) against a healthy canary at weight 50 whose analysis
// has max_error_rate 0.1, beside normal load, through the real daemon: the canary is promoted,
// neither revision counts an error, no target is ejected and no normal request fails. Rerun a
// seed with HOSTILE_SEED.
func TestHostileClientCannotRollBackHealthyCanary(t *testing.T) {
	var logs syncBuffer
	h := newHarnessLogging(t, &logs)
	listen := freeAddr(t)
	id := hostileCanary(t, h, listen, "10s")
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HOSTILE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("HOSTILE_SEED: %v", err)
		}
	}
	stop := startLoad(t, listen, 10) // light, so that charged attacks would move the error rate
	n := 4 * len(hostile.Kinds)
	tally := hostile.Run(context.Background(), hostile.Config{Addr: listen, Target: hostile.Target{Host: "web", Path: "/echo"},
		Seed: seed, N: n, Workers: 8})
	got := h.wait(id, 90*time.Second)
	sum := stop()
	t.Logf("seed %d: %s; load %s", seed, tally, sum)
	if tally.Sent != n {
		t.Errorf("sent %d attacks, want %d", tally.Sent, n)
	}
	if got.Status != "succeeded" {
		t.Errorf("seed %d: healthy canary under hostile traffic: %s %q; want succeeded", seed, got.Status, got.Reason)
	}
	if k := tally.ByStatus[http.StatusBadGateway] + tally.ByStatus[http.StatusGatewayTimeout]; k != 0 {
		t.Errorf("seed %d: %d attacks answered 502/504, blaming an app", seed, k)
	}
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	for rev, c := range svc.Traffic {
		if c.Errors != 0 {
			t.Errorf("seed %d: revision %d counts %d errors of %d requests", seed, rev, c.Errors, c.Requests)
		}
	}
	if n := strings.Count(logs.String(), "target ejected"); n != 0 {
		t.Errorf("seed %d: %d targets ejected", seed, n)
	}
	if sum.Failed != 0 {
		t.Errorf("%d normal requests failed", sum.Failed)
	}
}

// rawSocketStatus writes req on a new connection to addr and returns the answer's status, 0 if
// none came within 10s.
func rawSocketStatus(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
