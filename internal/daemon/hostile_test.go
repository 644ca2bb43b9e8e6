package daemon

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
